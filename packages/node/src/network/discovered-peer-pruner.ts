import { KEEP_ALIVE, type Libp2p, type PeerId } from "@libp2p/interface";
import type { Logger } from "pino";

/** How long the peer store keeps peers this node is not connected to. */
export interface DiscoveredPeerPrunerPolicy {
  /** A peer not announced, nor connected, for this long is removed. */
  readonly maxAgeMs: number;
  /** At most this many such peers are kept; the longest unannounced go first. */
  readonly maxPeers: number;
  /** How often the store is swept. */
  readonly sweepMs: number;
}

export interface DiscoveredPeerPruner {
  /** A peer was announced (again) on the discovery topic. */
  announced(peer: PeerId): void;
  /** Removes what the policy says to; how many peers it removed. */
  sweep(): Promise<number>;
  stop(): void;
}

/**
 * Keeps libp2p's in-memory peer store from growing with every key announced on the discovery
 * topic. libp2p expires a stored peer only after 6 hours without an update, and only once its
 * addresses are an hour old, so a flood of announcements under fresh keys held its memory long
 * after the flooder left. A peer that is connected, tagged keep-alive, or one of
 * `protectedPeers` (bootstrap peers, whose libp2p tag expires after 2 minutes) is never
 * removed. Honest peers repeat their announcement each time gossip's seen-cache entry for it
 * expires (every 2 minutes), so a maximum age of a few minutes keeps them; a pruned one comes
 * back with its next announcement.
 */
export function startDiscoveredPeerPruner(
  libp2p: Libp2p,
  policy: DiscoveredPeerPrunerPolicy,
  init: { readonly protectedPeers?: ReadonlySet<string>; readonly logger?: Logger } = {},
): DiscoveredPeerPruner {
  const lastSeen = new Map<string, number>();
  const onDisconnect = (evt: CustomEvent<PeerId>) => lastSeen.set(evt.detail.toString(), Date.now());
  libp2p.addEventListener("peer:disconnect", onDisconnect);
  let sweeping = false;

  const sweep = async (): Promise<number> => {
    if (sweeping) return 0;
    sweeping = true;
    try {
      const now = Date.now();
      const candidates: { id: PeerId; seen: number }[] = [];
      const stored = new Set<string>();
      for (const peer of await libp2p.peerStore.all()) {
        const key = peer.id.toString();
        stored.add(key);
        const keep =
          init.protectedPeers?.has(key) === true ||
          libp2p.getConnections(peer.id).length > 0 ||
          [...peer.tags.keys()].some((tag) => tag.startsWith(KEEP_ALIVE));
        if (keep) {
          lastSeen.set(key, now);
          continue;
        }
        // A peer stored some other way (peer exchange, before this started) gets a full term.
        let seen = lastSeen.get(key);
        if (seen === undefined) {
          seen = now;
          lastSeen.set(key, seen);
        }
        candidates.push({ id: peer.id, seen });
      }
      for (const key of lastSeen.keys()) if (!stored.has(key)) lastSeen.delete(key);
      candidates.sort((a, b) => a.seen - b.seen);
      const excess = candidates.length - policy.maxPeers;
      const doomed = candidates.filter((c, i) => i < excess || now - c.seen > policy.maxAgeMs);
      for (const { id } of doomed) {
        await libp2p.peerStore.delete(id);
        lastSeen.delete(id.toString());
      }
      if (doomed.length > 0)
        init.logger?.debug(
          { removed: doomed.length, kept: candidates.length - doomed.length },
          "peer store pruned",
        );
      return doomed.length;
    } finally {
      sweeping = false;
    }
  };

  const timer = setInterval(() => {
    sweep().catch((err: Error) => init.logger?.warn({ err: err.message }, "peer store prune failed"));
  }, policy.sweepMs);
  timer.unref();
  return {
    announced: (peer) => {
      lastSeen.set(peer.toString(), Date.now());
    },
    sweep,
    stop: () => {
      clearInterval(timer);
      libp2p.removeEventListener("peer:disconnect", onDisconnect);
    },
  };
}
