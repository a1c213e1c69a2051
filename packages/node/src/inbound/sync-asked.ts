import type { MessageKind, WireMessage } from "@walras/protocol";

/**
 * What a sync request asked for, as its answer is judged: the kinds, and for a `messages` request
 * its epoch and round, for a `decision` request the epochs from the one it names. A peer may
 * answer with more; what was not asked for is not judged (protocol §3): an honest responder's
 * store query matches exactly these, so anything else in an answer is at best unwanted, and
 * verifying its signatures would be work done for the responder.
 */
export interface SyncAsked {
  readonly kinds: readonly MessageKind[];
  /** The epochs asked for, inclusive; no `to`: every epoch from `from`; absent: any epoch. */
  readonly epochs?: { readonly from: number; readonly to?: number };
  /** The round asked for; absent: any (and messages without a round). */
  readonly round?: number;
}

export function askedFor(message: WireMessage, asked: SyncAsked): boolean {
  if (!asked.kinds.includes(message.kind)) return false;
  const { epochs, round } = asked;
  if (epochs && (message.epoch < epochs.from || (epochs.to !== undefined && message.epoch > epochs.to)))
    return false;
  return round === undefined || ("round" in message && message.round === round);
}
