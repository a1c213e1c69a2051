import type { Contract } from "../wire/contract.ts";

/**
 * How long the sync client waits for a `messages` answer at least, as a function of the contract's
 * round timeout (docs/protocol.md §3); longer, up to 1.5 times this, while answers come late
 * (sync-request-timer.ts). A catch-up that is lost costs the round it holds up this long
 * before it is asked again, so it follows roundMs. At a fixed 3 s, a contract with roundMs 2 s lost more
 * than a round per lost request (sim seed 18524, 30% loss: rounds of 3.0 s on average, up to
 * 8.8 s; at roundMs, 2.2 s and 5.0 s). The floor keeps a slow honest peer's answer (a node's
 * paged answers, under load) from counting as a timeout, which cools the peer off; the cap keeps
 * what nodes did before at roundMs 3 s and over where answers are quick (under load, 25 node
 * processes on two cores saw a few answers come after 3 s: a longer wait for every request would
 * hold those rounds up rather than ask another peer; the timer waits longer only once answers
 * in general come late, when asking another peer does not help). Half a round, the interval at
 * which the machine asks again, was tried: seed 18524's rounds took 1.25 s, but over seeds 1-3,000 the smallest liveness slack fell to 69.8 s (80.4 s
 * before, 92.3 s at roundMs), as the stuck rule it shortens (3 · roundMs at roundMs 2 s,
 * heartbeat.ts) dropped live members again; and it would halve the wait of the default contract
 * (roundMs 4 s) on loaded real networks, which the simulator does not model.
 */
export const SYNC_MIN_REQUEST_TIMEOUT_MS = 1_000;
export const SYNC_MAX_REQUEST_TIMEOUT_MS = 3_000;

/**
 * How long the sync client waits for a `decision` or `ledger` page, whatever the contract: such a
 * page (up to 1 MiB) holds no round up, and comes at 2.8 Mbit/s within 3 s. At the `messages`
 * timeout it had to come within 1 s at roundMs 1 s (8.4 Mbit/s): from a responder on a slower
 * uplink every full page timed out, and each retry asked for the same page, so catch-up starved.
 * The cost, a lost decision ask noticed later: over sim seeds 1-3,000 the smallest liveness slack
 * fell from 92.3 s to 80.4 s (seed 2708, 104.6 s before), none failed.
 */
export const SYNC_PAGE_TIMEOUT_MS = 3_000;

type Timeouts = Contract["timeouts"];

/** The requests the sync client waits for: what holds a round up, and pages that do not. */
export type SyncTimedRequest = "messages" | "decision" | "ledger";

/** A `messages` request not answered within this long has failed; its peer cools off (sync-peer-load.ts). */
export function syncMessagesTimeoutMs(timeouts: Timeouts): number {
  return Math.min(SYNC_MAX_REQUEST_TIMEOUT_MS, Math.max(SYNC_MIN_REQUEST_TIMEOUT_MS, timeouts.roundMs));
}

/** How long a request of `type` is waited for before it counts as timed out. */
export function syncRequestTimeoutMs(timeouts: Timeouts, type: SyncTimedRequest): number {
  return type === "messages" ? syncMessagesTimeoutMs(timeouts) : SYNC_PAGE_TIMEOUT_MS;
}

/** A peer that timed out or refused is not asked again for this long, doubling per miss in a row. */
export function syncCoolMs(timeouts: Timeouts): number {
  return syncMessagesTimeoutMs(timeouts);
}

/** The longest cooling off: three doublings. */
export function syncMaxCoolMs(timeouts: Timeouts): number {
  return 8 * syncCoolMs(timeouts);
}
