import type { SyncRequest } from "./sync-messages.ts";

/** `quota` tokens per `windowMs`, all of which may be spent at once. */
export interface Quota {
  readonly quota: number;
  readonly windowMs: number;
}

export type SyncRequestType = SyncRequest["type"];

/**
 * What one peer may ask of this node per request type: a number of requests and, for `messages`
 * and `decision`, a number of messages served. Requests are counted as they come; messages once they are served
 * (a request does not say how many match), so a request is admitted while the peer has any
 * message budget left, and one that empties it leaves the peer in debt until it refills.
 */
export interface SyncQuotas {
  readonly requests: Quota;
  readonly messages?: Quota;
}

/**
 * Honest catch-up asks each peer for a round's demands, an epoch's proposals or its commits, a
 * few times per round timeout, and gets a handful of messages each time; a newcomer fetching an
 * epoch's history takes a few pages. The defaults leave that an order of magnitude of headroom.
 */
export const DEFAULT_SYNC_QUOTAS: Readonly<Record<SyncRequestType, SyncQuotas>> = {
  messages: { requests: { quota: 200, windowMs: 10_000 }, messages: { quota: 4_096, windowMs: 10_000 } },
  // A node with no epoch that knows a network runs asks four times per announce interval (two
  // peers each time, protocol §9.3): 4 a second at the default 1 s, 8 with a 500 ms interval
  // when it has one peer. One answer holds up to DECISIONS_PER_SYNC epochs' proposals and accepts;
  // the message quota, not the request count, bounds what a flood costs.
  decision: { requests: { quota: 100, windowMs: 10_000 }, messages: { quota: 8_192, windowMs: 10_000 } },
  // A page is at most LEDGER_SYNC_PAGE entries and LEDGER_SYNC_PAGE_BYTES; the ledger it is cut
  // from is kept built (LedgerBook), so a page costs its own entries, not the whole ledger.
  ledger: { requests: { quota: 50, windowMs: 10_000 } },
  status: { requests: { quota: 20, windowMs: 10_000 } },
  contract: { requests: { quota: 20, windowMs: 10_000 } },
};

export interface SyncBudget {
  /**
   * Admits one request of `type` from `peer` and counts it, or refuses it (counting nothing) when
   * the peer is out of requests or of messages for that type.
   */
  allow(peer: string, type: SyncRequestType, now: number): boolean;
  /** Charges `peer` for `messages` served in answer to an admitted request. */
  charge(peer: string, type: SyncRequestType, messages: number, now: number): void;
  /** Buckets currently tracked (bounded: full buckets are forgotten). */
  readonly size: number;
}

/** Above this many tracked buckets, those that have refilled are dropped. */
const PRUNE_AT = 4_096;

/**
 * GCRA (the generic cell rate algorithm, as in Lodestar's req/resp rate limiter): one number per
 * bucket, the theoretical arrival time at which it would be empty, instead of a token count
 * refilled on a timer. A bucket whose time lies more than one window ahead is spent.
 */
export function createSyncBudget(
  quotas: Readonly<Record<SyncRequestType, SyncQuotas>> = DEFAULT_SYNC_QUOTAS,
): SyncBudget {
  const tat = new Map<string, number>();
  const msPerToken = (q: Quota) => q.windowMs / q.quota;
  const time = (key: string, now: number) => Math.max(tat.get(key) ?? now, now);
  const set = (key: string, t: number, now: number) => {
    if (tat.size >= PRUNE_AT) for (const [k, v] of tat) if (v <= now) tat.delete(k);
    tat.set(key, t);
  };
  return {
    allow(peer, type, now) {
      const { requests, messages } = quotas[type];
      const requestKey = `${type} requests ${peer}`;
      const next = time(requestKey, now) + msPerToken(requests);
      if (next - now > requests.windowMs) return false;
      if (messages && time(`${type} messages ${peer}`, now) + msPerToken(messages) - now > messages.windowMs)
        return false;
      set(requestKey, next, now);
      return true;
    },
    charge(peer, type, served, now) {
      const { messages } = quotas[type];
      if (!messages || served <= 0) return;
      const key = `${type} messages ${peer}`;
      set(key, time(key, now) + msPerToken(messages) * served, now);
    },
    get size() {
      return tat.size;
    },
  };
}
