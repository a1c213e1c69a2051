import type { Contract } from "../wire/contract.ts";
import { syncMessagesTimeoutMs } from "./sync-timeout.ts";

/**
 * Alive messages a node receives per second from a whole epoch, at most (docs/protocol.md §9.4).
 * Every member heartbeats to every other, so a fixed period costs each node n messages per period:
 * at 50 members and one per second that was most of a busy network's traffic. As RTCP scales its
 * report interval with the group (RFC 3550 §6.2), the period grows with the member count instead.
 * At 10 a second alive was most of what idle nodes spent: 25 idle node processes used 85% of a
 * core, 40 of them 174% (4.4% each) before any market ran; at 3 a second the 25 used 33%
 * (docs/scaling.md §5). The price is slower detection of a member that dies while the
 * market is idle (silenceMs below); one that dies in a running round is still dropped after
 * stuckHeardMs.
 */
export const ALIVE_PER_SECOND = 3;
/**
 * Heartbeats a member may miss in a row, to loss, before it counts as unheard. With 30% of
 * deliveries lost a live member is taken for silent with probability 0.3^10 ≈ 6e-6 per beat; at
 * 4 beats (0.8% per beat) three idle members under that loss changed epoch 16 times in ten
 * minutes, and CI saw a sync-flood run certify without a live member. Ten is what small epochs
 * had before heartbeats slowed (roundMs / announceMs).
 */
export const SILENCE_BEATS = 10;

type Timeouts = Contract["timeouts"];

/** Round timeouts a member heard from (alive) but still not bidding has before it is taken as silent. */
export const STUCK_HEARD = 3;

/**
 * How long a member's demand may be missing from a running round although it is heard before it
 * counts as silent: STUCK_HEARD round timeouts, each long enough for a catch-up request lost on
 * the way to be noticed (the sync client's `messages` timeout, machine/sync-timeout.ts) and asked again
 * (roundMs/2). A member behind on a lost catch-up is heard but cannot bid, and so is the member
 * waiting for its demand: at 3·roundMs with roundMs 2 s, two such losses in a row dropped a live
 * member, and under 20-30% loss a fixed-fee market changed epoch every few seconds for good (sim
 * seeds 686, 910, 2259 once the simulator modelled the client's timeout). The timeout follows
 * roundMs (1-3 s), so at roundMs 2 s this is at least 9 s (12 s at a fixed 3 s); a timeout of half a
 * round made it 6 s again, and seed 1142's slack to the liveness bound fell from 144.5 s to 69.8 s.
 *
 * `syncWaitMs` is the timeout of this node's last `messages` request (the sync client's timer,
 * sync-request-timer.ts), when longer than the contract's: on a starved network answers come
 * late, the timer follows them, and a catch-up lost there costs that longer wait. With the
 * contract's timeout alone, a starved simulated network (answers up to 2.6 s late at roundMs 2 s,
 * 29% loss: sim seed 686 once starved networks were drawn) dropped live members for silence and
 * changed epoch 50 times without a certificate of all four. (Live, 100 node processes on two
 * cores churned through epochs too, for reasons not measured apart.) The wait is this node's own,
 * so nodes may differ on it; the rule is a liveness heuristic, and a proposal still needs the
 * epoch's acceptance.
 */
export function stuckHeardMs(timeouts: Timeouts, syncWaitMs: number | null = null): number {
  const wait = Math.max(syncMessagesTimeoutMs(timeouts), syncWaitMs ?? 0);
  return STUCK_HEARD * Math.max(timeouts.roundMs, wait + timeouts.roundMs / 2);
}

/** How often a member of an epoch of `members` sends `alive`: every announceMs, or slower for large epochs. */
export function heartbeatMs(timeouts: Timeouts, members: number): number {
  return Math.max(timeouts.announceMs, Math.ceil((members * 1_000) / ALIVE_PER_SECOND));
}

/**
 * How long a member may go unheard before it counts as silent: a round timeout, or `SILENCE_BEATS`
 * heartbeats when those are longer. Every member computes the same from the epoch's member count.
 */
export function silenceMs(timeouts: Timeouts, members: number): number {
  return Math.max(timeouts.roundMs, SILENCE_BEATS * heartbeatMs(timeouts, members));
}

/**
 * A joiner's longest wait between `join` announcements: roundMs/2, or a heartbeat of all the
 * agents it knows when that is longer. Forty joiners announcing every roundMs/2 to forty starting
 * nodes were most of a starting network's messages, and on a starved machine their joins arrived
 * too late to keep them live (§9.4).
 */
export function joinerAnnounceMs(timeouts: Timeouts, agents: number): number {
  return Math.max(timeouts.announceMs, timeouts.roundMs / 2, heartbeatMs(timeouts, agents));
}

/**
 * How long a `join` keeps its joiner live at a proposer: silenceMs over the agents it knows, at
 * least twice the joiner's longest wait between announcements.
 */
export function joinerLiveMs(timeouts: Timeouts, agents: number): number {
  return silenceMs(timeouts, agents);
}
