import { messageDigest, type RejectReason, slotOf, type WireMessage } from "@walras/protocol";

/** Slots remembered for the signer's own mismatching demands, at most (the oldest forgotten first). */
export const MAX_SIGNER_MISMATCH_SLOTS = 1_024;

/**
 * Whether a `price-mismatch` or `equivocation` reject, which costs a forwarder nothing (an honest
 * peer on the other side of a split holds the message as valid: docs/protocol.md §5), is held
 * against the peer that sent it because that peer is the message's signer (an agent id is its
 * libp2p peer id). Without this a member connected to a node could send it any number of signed
 * demands at other prices, each costing a signature check, at no gossip-score cost.
 *
 * - `equivocation`: the signer itself sent a second message for a slot this node holds another
 *   for; an honest node signs one per slot (a restart that lost its own is the rare exception,
 *   and costs it one reject);
 * - `price-mismatch`: only from the signer's second different demand for one slot. Its first is
 *   what every honest member on the other side of a split sends in each round, directly, to its
 *   mesh peers; blaming that would graylist honest peers across the split.
 */
export interface SignerBlame {
  blames(message: WireMessage, reason: RejectReason, from: string): boolean;
}

export function createSignerBlame(capacity = MAX_SIGNER_MISMATCH_SLOTS): SignerBlame {
  /** Slot -> digest of the first mismatching demand its signer sent this node itself. */
  const first = new Map<string, string>();
  return {
    blames(message, reason, from) {
      if (from !== message.agent) return false;
      if (reason === "equivocation") return true;
      if (reason !== "price-mismatch") return false;
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
