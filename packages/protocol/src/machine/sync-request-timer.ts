import type { Contract } from "../wire/contract.ts";
import { type SyncTimedRequest, syncRequestTimeoutMs } from "./sync-timeout.ts";

/**
 * How long the sync client waits for an answer, following how long answers are taking, as TCP's
 * retransmission timer follows the round-trip time (RFC 6298 §2): per kind of request, a smoothed
 * answer time SRTT and its mean deviation RTTVAR over the answered requests, and a timeout of
 * SRTT + 4·RTTVAR, never below the contract's fixed timeout (sync-timeout.ts) nor above 1.5 times it.
 *
 * Why: on 100 node processes on two cores, answers came late rather than not at all. In one run
 * the requests answered took 2.59 s on average against a fixed 3 s timeout, and 80% of requests
 * timed out; each timeout cooled its peer off and the next catch-up asked another, one more
 * answer built late on a starved machine (docs/scaling.md §5). Where answers are quick, well
 * under a third of the fixed timeout (the first answer of R ms sets the timeout to 3R), SRTT +
 * 4·RTTVAR stays below the floor and the timeout is the fixed one, as before.
 *
 * Unlike TCP, a timeout does not double the timer (RFC 6298 §5.5): a request that timed out may
 * have been lost rather than late (a dropped stream, or the simulator's loss), and a lost request
 * costs its round the timeout it waits. The estimate therefore rises only on answers, which on a
 * starved network come in under the timer often enough to raise it (answers that would come after
 * it are never seen: that tail is what the 4·RTTVAR margin covers). The cap keeps a lost request
 * from costing more than 1.5 times what it did with a fixed timeout.
 */
export interface SyncRequestTimer {
  /** How long a request of `type` sent now is waited for. */
  timeoutMs(type: SyncTimedRequest): number;
  /** A request of `type` was answered `ms` after it was sent. */
  answered(type: SyncTimedRequest, ms: number): void;
}

/** The estimate's gains and margin, RFC 6298's: α = 1/8, β = 1/4, K = 4. */
const ALPHA = 1 / 8;
const BETA = 1 / 4;
const K = 4;

/**
 * The longest wait, as a multiple of the contract's fixed timeout. In the simulator's starved
 * networks (seeds 1-10,000 that draw one, 1,233 of them, where sync answers also share gossip's
 * loss) the time from the last change to liveness was, at 1, 1.5, 2 and 3 times (mean, p90, p99,
 * max): 11.3, 28.1, 87.1, 160.9 s with 2 seeds failing (the stuck rule at the fixed wait); 11.5,
 * 29.1, 70.2, 483.2 s; 12.7, 31.9, 74.6, 570.7 s; 13.0, 32.8, 87.0, 523.0 s, none failing. A
 * longer cap waits longer on a lost request there, and the simulator does not model what a
 * timeout costs a starved network live (one more answer built late).
 */
export const SYNC_TIMEOUT_CEILING = 1.5;

/** One kind of request's estimate, in ms. */
export interface AnswerTimes {
  readonly srtt: number;
  readonly rttvar: number;
}

/** The estimate after one more answer of `ms` (RFC 6298 §2.2–2.3). */
export function nextAnswerTimes(prior: AnswerTimes | undefined, ms: number): AnswerTimes {
  if (prior === undefined) return { srtt: ms, rttvar: ms / 2 };
  return {
    rttvar: (1 - BETA) * prior.rttvar + BETA * Math.abs(prior.srtt - ms),
    srtt: (1 - ALPHA) * prior.srtt + ALPHA * ms,
  };
}

export function createSyncRequestTimer(timeouts: Contract["timeouts"]): SyncRequestTimer {
  // Absent until the kind's first answer.
  const times = new Map<SyncTimedRequest, AnswerTimes>();
  return {
    timeoutMs(type) {
      const floor = syncRequestTimeoutMs(timeouts, type);
      const t = times.get(type);
      if (t === undefined) return floor;
      return Math.min(SYNC_TIMEOUT_CEILING * floor, Math.max(floor, Math.ceil(t.srtt + K * t.rttvar)));
    },
    answered(type, ms) {
      if (!Number.isFinite(ms) || ms < 0) return;
      times.set(type, nextAnswerTimes(times.get(type), ms));
    },
  };
}
