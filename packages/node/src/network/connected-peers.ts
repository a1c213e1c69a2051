import type { Libp2p, PeerId } from "@libp2p/interface";

/**
 * The peers this node holds a connection to. libp2p's own `getPeers()` collects the connections'
 * peers into a set of strings and parses every one back into a peer id (a base58 decode each):
 * polled by /status, the discovery dialer and the sync client, that was 2% of the CPU of 50 nodes
 * in one process running a market. A connection's `remotePeer` keeps its string once made, so
 * reading it is free.
 */
export function connectedPeers(libp2p: Libp2p): PeerId[] {
  const byId = new Map<string, PeerId>();
  for (const connection of libp2p.getConnections())
    byId.set(connection.remotePeer.toString(), connection.remotePeer);
  return [...byId.values()];
}

/** The ids of the peers this node holds a connection to, once each. */
export function connectedPeerIds(libp2p: Libp2p): string[] {
  return connectedPeers(libp2p).map((peer) => peer.toString());
}

/** How many peers this node holds a connection to. */
export function connectedPeerCount(libp2p: Libp2p): number {
  return connectedPeerIds(libp2p).length;
}
