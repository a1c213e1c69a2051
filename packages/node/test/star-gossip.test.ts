import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Host } from "../src/network/host.ts";
import { loopbackHosts } from "./loopback-hosts.ts";
import { waitFor } from "./wait-for.ts";

/**
 * A young network is a star around its bootstrap node: every leaf is connected to it alone until
 * discovery links the leaves. The hub's mesh holds D_hi of them; the rest get a message only from
 * the hub's IHAVE gossip. Every leaf closes a round only with every member's demand, so a leaf
 * that waits heartbeats for its IHAVE holds every round back (docs/scaling.md §5).
 */

const LEAVES = 24;
const TOPIC = "walras-star-gossip-test";

/** gossipsub's own heartbeat steps, spied on at one host: the peers it may gossip to, and those it does. */
interface GossipInternals {
  emitGossip(peersToGossipByTopic: Map<string, Set<string>>): void;
  pushGossip(id: string, ihave: { topicID?: string; messageIDs?: Uint8Array[] }): void;
}

// Discovery off: the leaves stay linked to the hub alone, as in a network's first seconds.
const startHost = loopbackHosts({ discoveryDials: { targetPeers: 1, minPeers: 0, deferMs: 60_000 } });

describe("the bootstrap node of a star", () => {
  it("sends IHAVE for a message to every leaf outside its mesh at its next heartbeat, not a random few", async () => {
    const hub = await startHost();
    const address = `${hub.libp2p.getMultiaddrs()[0]?.toString()}`;
    const leaves: Host[] = await Promise.all(
      Array.from({ length: LEAVES }, () => startHost({ bootstrap: [address] })),
    );
    for (const host of [hub, ...leaves]) host.libp2p.services.pubsub.subscribe(TOPIC);
    const pubsub = hub.libp2p.services.pubsub;
    await waitFor("every leaf subscribed at the hub", () => pubsub.getSubscribers(TOPIC).length === LEAVES, {
      timeoutMs: 60_000,
    });

    const data = new TextEncoder().encode("round 0 demand");
    // The host's message id (host.ts msgIdFn): the IHAVE must name this message.
    const messageId = createHash("sha256").update(TOPIC).update(data).digest();
    const internals = pubsub as unknown as GossipInternals;
    const emitGossip = internals.emitGossip.bind(internals);
    const pushGossip = internals.pushGossip.bind(internals);
    let published = false;
    // The peers outside the mesh at the first heartbeat after the publish, and those it told.
    let candidates: ReadonlySet<string> | null = null;
    let capturing = false;
    const told = new Set<string>();
    internals.pushGossip = (id, ihave) => {
      if (
        capturing &&
        ihave.topicID === TOPIC &&
        ihave.messageIDs?.some((m) => Buffer.from(m).equals(messageId))
      )
        told.add(id);
      pushGossip(id, ihave);
    };
    internals.emitGossip = (byTopic) => {
      const peers = byTopic.get(TOPIC);
      capturing = published && candidates === null && peers !== undefined;
      if (capturing) candidates = new Set(peers);
      emitGossip(byTopic);
      capturing = false;
    };
    await pubsub.publish(TOPIC, data);
    published = true;
    await waitFor("the hub's next heartbeat with leaves outside its mesh", () => candidates !== null);

    const outside = candidates as unknown as Set<string>;
    // gossipsub's default picks max(D_lazy = 6, a quarter of them) at random: with more than 6
    // outside the mesh, some leaf would wait further heartbeats for its IHAVE.
    expect(outside.size).toBeGreaterThan(6);
    expect([...told].sort()).toEqual([...outside].sort());
  });
});
