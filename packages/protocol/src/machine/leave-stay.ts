import type { Contract } from "../wire/contract.ts";
import type { WireMessage } from "../wire/messages.ts";

/**
 * When a leaving node may go (docs/protocol.md §9.4). It goes once the members that stay know the
 * epoch without it, not once it knows it: a leaver of a two-member market that went as soon as its
 * own accept made the majority, that accept lost, left the other member unable ever to decide
 * (sim seed 23). Each of its two waits — for the epoch without it, then for a member of that epoch
 * to show it holds it — is bounded, so no one can hold a leaver for good.
 */

/** Round timeouts a leaver waits for the epoch without it, and again for a member's sign of it. */
export const LEAVE_WAIT_ROUNDS = 2;

type Timeouts = Contract["timeouts"];

/** The longest one of a leaver's two waits takes. */
export function leaveWaitMs(timeouts: Timeouts): number {
  return LEAVE_WAIT_ROUNDS * timeouts.roundMs;
}

/**
 * How often a leaver that is still a member re-sends its `leave`: a lost one is the others' only
 * news of it, and the first wait gives it about four chances where a round timeout gave two
 * (sim seed 1881: its first leave lost to the only voter, which decided a re-send).
 */
export function leaveResendMs(timeouts: Timeouts): number {
  return timeouts.roundMs / 2;
}

/** The longest a leaving node stays after its `leave` event, both waits together. */
export function leaveStayMs(timeouts: Timeouts): number {
  return 2 * leaveWaitMs(timeouts);
}

/**
 * Whether `m` shows its sender has adopted epoch `epoch` or a later one: a decision message for
 * the epoch after it, or any other message of it or a later one (a decision message of `epoch`
 * itself is its sender still deciding it).
 */
export function showsAdopted(m: WireMessage, epoch: number): boolean {
  const decides = m.kind === "propose" || m.kind === "accept" || m.kind === "view";
  return decides ? m.epoch > epoch : m.epoch >= epoch;
}
