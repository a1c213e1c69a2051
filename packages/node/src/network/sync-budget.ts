import type { SyncRequest } from "./sync-messages.ts";

/** `quota` tokens per `windowMs`, all of which may be spent at once. */
export interface Quota {
  readonly quota: number;
  readonly windowMs: number;
}

export type SyncRequestType = SyncRequest["type"];

/**
 * What one peer may ask of this node over the sync protocol, per request type, as Lodestar's
 * req/resp rate limiter does: a `messages` request is charged the page size it asks for (the
 * work it can cause), the others one token each. Honest catch-up asks a few pages per round;
 * the defaults leave it an order of magnitude of headroom.
 */
export const DEFAULT_SYNC_QUOTAS: Readonly<Record<SyncRequestType, Quota>> = {
  messages: { quota: 4_096, windowMs: 10_000 },
  status: { quota: 20, windowMs: 10_000 },
  contract: { quota: 20, windowMs: 10_000 },
};

export interface SyncBudget {
  /** Charges `peer` `tokens` for a request of `type`; false (and nothing charged) when over budget. */
  allow(peer: string, type: SyncRequestType, tokens: number, now: number): boolean;
  /** Peers currently tracked (bounded: full buckets are forgotten). */
  readonly size: number;
}

/** Above this many tracked peers, those whose buckets have refilled are dropped. */
const PRUNE_AT = 4_096;

/**
 * GCRA (the generic cell rate algorithm): one number per peer, the theoretical arrival time at
 * which its bucket would be empty, instead of a token count refilled on a timer.
 */
export function createSyncBudget(
  quotas: Readonly<Record<SyncRequestType, Quota>> = DEFAULT_SYNC_QUOTAS,
): SyncBudget {
  const tat = new Map<string, number>();
  return {
    allow(peer, type, tokens, now) {
      const { quota, windowMs } = quotas[type];
      const cost = (windowMs / quota) * Math.max(1, tokens);
      if (cost > windowMs) return false;
      const key = `${type} ${peer}`;
      const start = Math.max(tat.get(key) ?? now, now);
      if (start + cost - now > windowMs) return false;
      if (tat.size >= PRUNE_AT) for (const [k, t] of tat) if (t <= now) tat.delete(k);
      tat.set(key, start + cost);
      return true;
    },
    get size() {
      return tat.size;
    },
  };
}
