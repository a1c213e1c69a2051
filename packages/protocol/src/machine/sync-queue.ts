import type { Prng } from "../random/prng.ts";
import type { Contract } from "../wire/contract.ts";
import { type SyncWant, syncAgents } from "./machine-io.ts";
import { createSyncPeerLoad, type SyncPeerLoad } from "./sync-peer-load.ts";
import { createSyncRequestTimer } from "./sync-request-timer.ts";
import { syncTargets } from "./sync-targets.ts";
import { type SyncTimedRequest, syncCoolMs, syncMaxCoolMs } from "./sync-timeout.ts";

/**
 * Which of a node's catch-ups run and whom they ask: the pure half of the node's sync client
 * (packages/node network/sync-peer.ts), which the simulator runs too, so that a rule that hangs
 * on a lost request's timeout or a peer's cooling off is exercised there as it is live. Time is
 * the caller's (`now`); the requests themselves, and their timeouts, are the caller's to make.
 */

/** Catch-ups running at once; more wait in line (identical ones are merged). */
export const SYNC_MAX_IN_FLIGHT = 4;
/** Wants waiting in line at most; the oldest goes first. */
export const SYNC_MAX_QUEUED = 64;

/** Wants with one key make one request. */
export type SyncWantKey = string & { readonly __brand: "SyncWantKey" };

/**
 * The agents asked for are part of the key: an answer in flight for some members' demands does
 * not carry another member's that went missing since.
 */
export function syncWantKey(want: SyncWant): SyncWantKey {
  if (want.type === "decision") return `decision/${want.epoch ?? "current"}` as SyncWantKey;
  const kinds = [...want.kinds].sort().join(",");
  const agents = [...(syncAgents(want) ?? [])].sort().join(",");
  return `${want.epoch}/${want.round ?? "*"}/${kinds}/${agents}` as SyncWantKey;
}

/** A catch-up to make now: ask each target for `want`; report its end with `ended(key)`. */
export interface SyncStart {
  readonly key: SyncWantKey;
  readonly want: SyncWant;
  readonly targets: readonly string[];
}

/** What became of a want that did not start: merged into one in flight or in line, or in line for a peer. */
export type SyncHeld = "coalesced" | "deferred";

export interface SyncQueueOptions {
  /** Orders the targets (syncTargets); Math.random on the node, the sync stream in the simulator. */
  readonly random: Prng;
  /**
   * The contract's: the `messages` request timeout's floor and the cooling off follow its round
   * timeout (sync-timeout.ts).
   */
  readonly timeouts: Contract["timeouts"];
  /** Counts a want that did not start (the node's metrics). */
  readonly held?: (why: SyncHeld, want: SyncWant) => void;
}

export interface SyncQueue {
  /**
   * How long the caller waits for a request's answer before it counts as timed out: the
   * contract's fixed timeout, longer while answers are coming late (sync-request-timer.ts).
   */
  requestTimeoutMs(type: SyncTimedRequest): number;
  /** A request of `type` was answered `ms` after it was sent (the caller's clock). */
  answered(type: SyncTimedRequest, ms: number): void;
  /** Who the node asks and how that went: `started` and `finished` per request, by the caller. */
  readonly load: SyncPeerLoad;
  /** The machine asks for `want`; `peers` are the connected ones, in random order. */
  want(want: SyncWant, now: number, peers: () => readonly string[]): SyncStart[];
  /** The catch-up of `key` ended (every target answered or failed): the wants in line that start now. */
  ended(key: SyncWantKey, now: number, peers: () => readonly string[]): SyncStart[];
  /** Forgets the wants in line (the node stops). */
  clear(): void;
}

export function createSyncQueue(options: SyncQueueOptions): SyncQueue {
  const { timeouts } = options;
  const load = createSyncPeerLoad({ coolMs: syncCoolMs(timeouts), maxCoolMs: syncMaxCoolMs(timeouts) });
  const timer = createSyncRequestTimer(timeouts);
  const inFlight = new Set<SyncWantKey>();
  const queued = new Map<SyncWantKey, SyncWant>();

  // The machine asks again while anything is missing: dropping the oldest want loses nothing.
  const enqueue = (key: SyncWantKey, want: SyncWant): void => {
    if (queued.size >= SYNC_MAX_QUEUED && !queued.has(key))
      queued.delete(queued.keys().next().value as SyncWantKey);
    queued.set(key, want);
  };

  /**
   * `want` as a start if some peer may be asked now; otherwise it waits in line for a request of
   * ours to end (or for the machine to ask again).
   */
  const start = (
    key: SyncWantKey,
    want: SyncWant,
    now: number,
    peers: () => readonly string[],
  ): SyncStart | null => {
    const targets = syncTargets(load.ready(peers(), now), want, options.random);
    if (targets.length === 0) {
      options.held?.("deferred", want);
      enqueue(key, want);
      return null;
    }
    queued.delete(key);
    inFlight.add(key);
    return { key, want, targets };
  };

  /** Wants in line, oldest first, while there is room and a peer to ask. */
  const startQueued = (now: number, peers: () => readonly string[]): SyncStart[] => {
    const starts: SyncStart[] = [];
    for (const [key, want] of [...queued]) {
      if (inFlight.size >= SYNC_MAX_IN_FLIGHT) break;
      const s = start(key, want, now, peers);
      if (s === null) break;
      starts.push(s);
    }
    return starts;
  };

  return {
    requestTimeoutMs: (type) => timer.timeoutMs(type),
    answered: (type, ms) => timer.answered(type, ms),
    load,
    want(want, now, peers) {
      const key = syncWantKey(want);
      const room = inFlight.size < SYNC_MAX_IN_FLIGHT;
      // A want already in line is tried again when there is room: its peers may be free by now.
      if (inFlight.has(key) || (queued.has(key) && !room)) {
        options.held?.("coalesced", want);
        return [];
      }
      if (!room) {
        enqueue(key, want);
        return [];
      }
      const s = start(key, want, now, peers);
      return s === null ? [] : [s];
    },
    ended(key, now, peers) {
      inFlight.delete(key);
      return startQueued(now, peers);
    },
    clear() {
      queued.clear();
    },
  };
}
