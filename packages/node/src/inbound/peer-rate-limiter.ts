/**
 * A token bucket per forwarding peer: a flood from one peer is rejected (its gossip score falls
 * and it is eventually pruned) while honest peers, well under the rate, are never touched.
 * Buckets for idle peers are dropped, so memory stays bounded by the peers actually talking.
 */
export interface PeerRateLimiter {
  allow(peer: string, now: number): boolean;
  /** True at most once per peer per second: logging every dropped message would be its own flood. */
  shouldLog(peer: string): boolean;
  readonly size: number;
}

const MAX_TRACKED = 10_000;

export function createPeerRateLimiter(perSecond: number, burst = perSecond * 2): PeerRateLimiter {
  const buckets = new Map<string, { tokens: number; at: number; loggedAt: number }>();
  return {
    allow(peer, now) {
      let b = buckets.get(peer);
      if (!b) {
        if (buckets.size >= MAX_TRACKED) evictIdle(buckets, now);
        b = { tokens: burst, at: now, loggedAt: 0 };
        buckets.set(peer, b);
      }
      b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * perSecond);
      b.at = now;
      if (b.tokens < 1) return false;
      b.tokens -= 1;
      return true;
    },
    shouldLog(peer) {
      const b = buckets.get(peer);
      if (!b || b.at - b.loggedAt < 1000) return false;
      b.loggedAt = b.at;
      return true;
    },
    get size() {
      return buckets.size;
    },
  };
}

function evictIdle(buckets: Map<string, { at: number }>, now: number): void {
  for (const [peer, b] of buckets) if (now - b.at > 60_000) buckets.delete(peer);
  if (buckets.size >= MAX_TRACKED) buckets.clear();
}
