import type { Libp2p, PeerId, PeerInfo } from "@libp2p/interface";
import type { Logger } from "pino";
import { connectedPeerCount } from "./connected-peers.ts";

/** How a node grows its connections from the peers the discovery topic announces. */
export interface DiscoveryDialPolicy {
  /** Dial until this many peers are connected or being dialed. */
  readonly targetPeers: number;
  /**
   * Below this many, a node also asks its peers for theirs (peer exchange) and dials what they
   * name, up to this many.
   */
  readonly minPeers: number;
  /** How long the end with the larger id leaves the dial to the other end. */
  readonly deferMs: number;
}

/** What the policy looks at for one discovered peer. */
export interface DiscoveredPeer {
  readonly self: string;
  readonly peer: string;
  /** Connected to it already, or a dial to it is under way. */
  readonly known: boolean;
  /** Distinct peers connected, plus dials under way. */
  readonly reach: number;
  /** This peer was announced `deferMs` ago and the other end has not dialed meanwhile. */
  readonly deferred: boolean;
}

export type DialDecision = "now" | "later" | "no";

/**
 * Whether to dial a peer the discovery topic announced. Discovery is symmetric: two peers learn of
 * each other within one gossip delay and, both dialing, opened two connections, each with its own
 * Noise handshake, identify and gossipsub streams. Announcements also arrive in bursts, and each
 * dial counted only once connected, so a node reached for every peer of a burst: 25 nodes in one
 * process held 342 connections for 231 linked pairs, 15 s into a run, while the market crawled
 * through the bootstrap node. So the end with the smaller id dials at once and the other only if no
 * connection came after `deferMs` (so a peer whose id sorts last still reaches out), and dials
 * under way count toward the target.
 */
export function decideDiscoveredDial(policy: DiscoveryDialPolicy, d: DiscoveredPeer): DialDecision {
  if (d.peer === d.self || d.known) return "no";
  if (d.reach >= policy.targetPeers) return "no";
  if (d.self < d.peer || d.deferred) return "now";
  return "later";
}

export interface DiscoveryDialer {
  /** Peers learned by peer exchange: weighed like announced ones, dialed up to `minPeers`. */
  offer(peers: readonly PeerId[]): void;
  /** Whether the node has fewer than `minPeers`, counting dials under way. */
  shortOfPeers(): boolean;
  stop(): void;
}

/** Dials discovered peers by `decideDiscoveredDial`, on libp2p's `peer:discovery` events and offers. */
export function startDiscoveryDialer(
  libp2p: Libp2p,
  policy: DiscoveryDialPolicy,
  logger?: Logger,
): DiscoveryDialer {
  const self = libp2p.peerId.toString();
  const dialing = new Set<string>();
  const deferred = new Map<string, ReturnType<typeof setTimeout>>();
  const reach = () => connectedPeerCount(libp2p) + dialing.size;
  const consider = (peerId: PeerId, wasDeferred: boolean, targetPeers = policy.targetPeers) => {
    const peer = peerId.toString();
    const known = dialing.has(peer) || libp2p.getConnections(peerId).length > 0;
    const decision = decideDiscoveredDial(
      { ...policy, targetPeers },
      { self, peer, known, reach: reach(), deferred: wasDeferred },
    );
    if (decision === "later" && !deferred.has(peer)) {
      const timer = setTimeout(() => {
        deferred.delete(peer);
        consider(peerId, true);
      }, policy.deferMs);
      timer.unref();
      deferred.set(peer, timer);
    }
    if (decision !== "now") return;
    dialing.add(peer);
    libp2p
      .dial(peerId)
      .catch((err: Error) => logger?.debug({ peer, err: err.message }, "dial failed"))
      .finally(() => dialing.delete(peer));
  };
  const onDiscovery = (evt: CustomEvent<PeerInfo>) => consider(evt.detail.id, false);
  libp2p.addEventListener("peer:discovery", onDiscovery);
  return {
    offer: (peers) => {
      for (const peer of peers) consider(peer, false, policy.minPeers);
    },
    shortOfPeers: () => reach() < policy.minPeers,
    stop: () => {
      libp2p.removeEventListener("peer:discovery", onDiscovery);
      for (const timer of deferred.values()) clearTimeout(timer);
      deferred.clear();
    },
  };
}
