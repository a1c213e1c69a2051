import { describe, expect, it } from "vitest";
import { connectedPeerCount, connectedPeerIds, connectedPeers } from "../src/network/connected-peers.ts";
import type { Host } from "../src/network/host.ts";
import { loopbackHosts } from "./loopback-hosts.ts";
import { waitFor } from "./wait-for.ts";

const start = loopbackHosts();

describe("connected peers", () => {
  it("counts a peer with two connections once, and agrees with libp2p's getPeers", async () => {
    const [a, b, c] = [await start(), await start(), await start()];
    const address = (h: Host) => h.libp2p.getMultiaddrs()[0] ?? Promise.reject(new Error("no address"));
    await a.libp2p.dial(await address(b));
    await b.libp2p.dial(await address(a), { force: true });
    await waitFor(
      "two connections between a and b",
      () => a.libp2p.getConnections(b.libp2p.peerId).length === 2,
    );
    expect(connectedPeerCount(a.libp2p)).toBe(1);
    expect(connectedPeerIds(a.libp2p)).toEqual([b.libp2p.peerId.toString()]);

    await c.libp2p.dial(await address(a));
    await waitFor("c connected to a", () => a.libp2p.getConnections(c.libp2p.peerId).length === 1);
    const byLibp2p = a.libp2p.getPeers().map(String).sort();
    expect(connectedPeerIds(a.libp2p).sort()).toEqual(byLibp2p);
    expect(connectedPeers(a.libp2p).map(String).sort()).toEqual(byLibp2p);
    expect(connectedPeerCount(a.libp2p)).toBe(2);

    await c.libp2p.hangUp(a.libp2p.peerId);
    await waitFor("c gone from a", () => a.libp2p.getConnections(c.libp2p.peerId).length === 0);
    expect(connectedPeerIds(a.libp2p)).toEqual([b.libp2p.peerId.toString()]);
  });
});
