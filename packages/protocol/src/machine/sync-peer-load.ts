/**
 * What a node knows of each peer as a catch-up server: how many of its own requests are there
 * now, and whether the last ones timed out or were refused. Catch-up asks only peers that are
 * free of both.
 *
 * Without it, every node of 50 busy processes kept asking the one peer all of them were connected
 * to (the first node, their bootstrap): in one run 312 of 695 timed-out requests went to it, and
 * its answers, built after the askers had given up, added to the load that made them late.
 * Lodestar's req/resp does the same on the asking side: a cap on concurrent requests to one peer
 * (its self rate limiter) and a peer that times out scored down.
 */
export interface SyncPeerLoad {
  /**
   * The peers catch-up may ask now, in the order given: none with a request of ours in flight,
   * none cooling off after a timeout or a refusal. If every idle peer is cooling off, those idle peers anyway
   * (the soonest to end their cooling first), so that a network slow everywhere is still asked.
   */
  ready(peers: readonly string[], now: number): string[];
  /** A request to `peer` went out. */
  started(peer: string): void;
  /** It ended: answered, timed out, refused (an error answer or a reset stream), or failed otherwise. */
  finished(peer: string, outcome: SyncOutcome, now: number): void;
  /** How many peers it holds state for (bounded by those that matter now). */
  tracked(): number;
}

/**
 * A refusal cools a peer off as a timeout does: a server over its budget for us, or one that
 * banned or graylisted us, says no again if asked at once, and asking it anyway spends our
 * request, lowers our score with it and brings its ban nearer, while another peer could answer.
 */
export type SyncOutcome = "answered" | "timed-out" | "refused" | "failed";

export interface SyncPeerLoadOptions {
  /** Cooling off after one timeout or refusal; doubled for each further one in a row. */
  readonly coolMs: number;
  /** Longest cooling off. */
  readonly maxCoolMs: number;
}

interface PeerLoad {
  inFlight: number;
  /** Timeouts and refusals in a row. */
  misses: number;
  coolUntil: number;
}

/**
 * A peer is forgotten once idle and answered, or idle and maxCoolMs past the end of its cooling
 * off (a later timeout or refusal then counts as the first in a row again). Without the second rule a peer
 * that timed out and was never answered again kept its entry for good, and one that stalls
 * requests under fresh peer ids left one entry per id.
 */
export function createSyncPeerLoad(options: SyncPeerLoadOptions): SyncPeerLoad {
  const peers = new Map<string, PeerLoad>();
  const stale = (e: PeerLoad, now: number) => e.inFlight === 0 && e.coolUntil + options.maxCoolMs <= now;
  const sweep = (now: number): void => {
    for (const [peer, e] of peers) if (stale(e, now)) peers.delete(peer);
  };
  const entry = (peer: string): PeerLoad => {
    let e = peers.get(peer);
    if (!e) {
      e = { inFlight: 0, misses: 0, coolUntil: Number.NEGATIVE_INFINITY };
      peers.set(peer, e);
    }
    return e;
  };
  return {
    ready(candidates, now) {
      sweep(now);
      const idle = candidates.filter((p) => (peers.get(p)?.inFlight ?? 0) === 0);
      const cool = (p: string) => peers.get(p)?.coolUntil ?? Number.NEGATIVE_INFINITY;
      const warm = idle.filter((p) => cool(p) <= now);
      return warm.length > 0 ? warm : idle.sort((a, b) => cool(a) - cool(b));
    },
    started(peer) {
      entry(peer).inFlight += 1;
    },
    finished(peer, outcome, now) {
      const e = entry(peer);
      e.inFlight = Math.max(0, e.inFlight - 1);
      if (outcome === "timed-out" || outcome === "refused") {
        e.misses += 1;
        e.coolUntil = now + Math.min(options.maxCoolMs, options.coolMs * 2 ** (e.misses - 1));
      } else if (outcome === "answered") {
        e.misses = 0;
        e.coolUntil = Number.NEGATIVE_INFINITY;
      }
      if (e.inFlight === 0 && e.misses === 0) peers.delete(peer);
      sweep(now);
    },
    tracked: () => peers.size,
  };
}
