import {
  type Equivocation,
  messageDigest,
  type RejectReason,
  samePrices,
  slotOf,
  type WireMessage,
} from "@walras/protocol";

/** Slots remembered for the signer's own mismatching demands, at most (the oldest forgotten first). */
export const MAX_SIGNER_MISMATCH_SLOTS = 1_024;

/** What the blame is judged on: the reject's reason and, for an equivocation, its evidence. */
export interface BlamedReject {
  readonly reason: RejectReason;
  readonly evidence?: Equivocation;
}

/**
 * Whether a `price-mismatch` or `equivocation` reject, which costs a forwarder nothing (an honest
 * peer on the other side of a split holds the message as valid: docs/protocol.md §5), is held
 * against the peer that sent it because that peer is the message's signer (an agent id is its
 * libp2p peer id). Without this a member connected to a node could send it any number of signed
 * messages for a slot, each costing a signature check, at no gossip-score cost.
 *
 * - an `equivocation` that convicts() would count (two demands of the slot at the same prices),
 *   at once: honesty never signs that;
 * - any other second version, from the signer's second different message for one slot on. Its
 *   first is what honesty sends: a member across a split sends its demand at other prices in each
 *   round, directly, to its mesh peers; an honest node that restarted without its stored demand or
 *   commit re-signs the slot at other prices or with another body (conviction.ts), and a peer
 *   holding the first version judges that `equivocation`. Blaming those would graylist honest peers.
 *
 * Bounded: the first version is remembered for MAX_SIGNER_MISMATCH_SLOTS slots; a slot forgotten
 * is free again.
 */
export interface SignerBlame {
  blames(message: WireMessage, reject: BlamedReject, from: string): boolean;
}

export function createSignerBlame(capacity = MAX_SIGNER_MISMATCH_SLOTS): SignerBlame {
  /** Slot -> digest of the first other version its signer sent this node itself. */
  const first = new Map<string, string>();
  return {
    blames(message, reject, from) {
      if (from !== message.agent) return false;
      if (reject.reason === "equivocation" && reject.evidence && provable(reject.evidence)) return true;
      if (reject.reason !== "price-mismatch" && reject.reason !== "equivocation") return false;
      const slot = slotOf(message);
      const digest = messageDigest(message);
      const held = first.get(slot);
      if (held !== undefined) return held !== digest;
      first.set(slot, digest);
      if (first.size > capacity) first.delete(first.keys().next().value as string);
      return false;
    },
  };
}

/** Two demands of one slot at the same prices: what convicts() counts, and no honest node signs. */
function provable({ first, second }: Equivocation): boolean {
  return first.kind === "demand" && second.kind === "demand" && samePrices(first.prices, second.prices);
}
