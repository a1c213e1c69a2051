import { generateKeyPair } from "@libp2p/crypto/keys";
import { afterEach, describe, expect, it } from "vitest";
import { createGossip, type Gossip, type Verdict } from "../src/network/gossip.ts";
import { GOSSIP_KINDS, type GossipKind } from "../src/network/gossip-topics.ts";
import { createHost, type Host } from "../src/network/host.ts";
import { waitFor } from "./wait-for.ts";

const CONTRACT = "c0".repeat(32);
const BAD = 0xff;

interface TestNode {
  host: Host;
  gossip: Gossip;
  id: string;
  received: Array<{ kind: GossipKind; text: string; from: string }>;
  validations: Array<{ kind: GossipKind; text: string; verdict: Verdict }>;
  /** Each time a topic gained a subscriber peer when it had none. */
  linked: GossipKind[];
}

const hosts: Host[] = [];
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.stop()));
});

async function startNode(
  bootstrap: string[],
  timing: { heartbeatIntervalMs?: number; discoveryIntervalMs?: number; peerExchangeAfterMs?: number } = {},
): Promise<TestNode> {
  const host = await createHost({
    privateKey: await generateKeyPair("Ed25519"),
    listen: ["/ip4/127.0.0.1/tcp/0"],
    bootstrap,
    heartbeatIntervalMs: timing.heartbeatIntervalMs ?? 200,
    ...(timing.discoveryIntervalMs !== undefined ? { discoveryIntervalMs: timing.discoveryIntervalMs } : {}),
    ...(timing.peerExchangeAfterMs !== undefined
      ? { peerExchange: { firstAfterMs: timing.peerExchangeAfterMs } }
      : {}),
    bootstrapBackoffMs: { initial: 50, max: 500 },
  });
  hosts.push(host);
  const received: TestNode["received"] = [];
  const validations: TestNode["validations"] = [];
  const linked: GossipKind[] = [];
  const gossip = createGossip(host.libp2p, CONTRACT, {
    onLinked: (kind) => linked.push(kind),
    validate: (kind, bytes) => {
      const verdict: Verdict = bytes[0] === BAD ? "reject" : "accept";
      validations.push({ kind, text: new TextDecoder().decode(bytes), verdict });
      return verdict;
    },
    onMessage: (kind, bytes, from) => {
      received.push({ kind, text: new TextDecoder().decode(bytes), from });
    },
  });
  const node: TestNode = { host, gossip, id: host.libp2p.peerId.toString(), received, validations, linked };
  return node;
}

function tcpAddress(host: Host): string {
  const addr = host.libp2p.getMultiaddrs()[0];
  if (addr === undefined) throw new Error("host has no listen address");
  return addr.toString();
}

describe("gossip over three TCP hosts", () => {
  it("bootstraps with and without /p2p, delivers every kind, and penalises rejected messages", async () => {
    const a = await startNode([]);
    const withPeerId = tcpAddress(a.host);
    expect(withPeerId).toContain(`/p2p/${a.id}`);
    const withoutPeerId = withPeerId.replace(`/p2p/${a.id}`, "");
    const b = await startNode([withPeerId]);
    const c = await startNode([withoutPeerId]);
    await Promise.all([b.host.bootstrapped, c.host.bootstrapped]);
    expect(b.host.libp2p.getConnections(a.host.libp2p.peerId)).not.toHaveLength(0);
    expect(c.host.libp2p.getConnections(a.host.libp2p.peerId)).not.toHaveLength(0);

    // B and C only know A, so everything between them goes through A's mesh.
    await waitFor("meshes A-B and A-C on every topic", () =>
      GOSSIP_KINDS.every(
        (k) =>
          a.gossip.meshPeers(k).length === 2 &&
          b.gossip.meshPeers(k).includes(a.id) &&
          c.gossip.meshPeers(k).includes(a.id),
      ),
    );
    expect(a.gossip.topicPeers("demand").sort()).toEqual([b.id, c.id].sort());

    const nodes = [a, b, c];
    for (const sender of nodes) {
      for (const kind of GOSSIP_KINDS)
        await sender.gossip.publish(kind, new TextEncoder().encode(`${kind} from ${sender.id}`));
    }
    for (const receiver of nodes) {
      const expected = nodes
        .filter((n) => n !== receiver)
        .flatMap((sender) => GOSSIP_KINDS.map((kind) => `${kind}|${kind} from ${sender.id}`))
        .sort();
      await waitFor(
        `node ${receiver.id} to receive the others' messages`,
        () => receiver.received.length >= expected.length,
      );
      expect(receiver.received.map((r) => `${r.kind}|${r.text}`).sort()).toEqual(expected);
    }
    // C's messages reached B through A: the forwarding peer is A.
    expect(b.received.filter((r) => r.text.endsWith(c.id)).every((r) => r.from === a.id)).toBe(true);

    expect(a.gossip.peerScore(b.id)).toBeGreaterThanOrEqual(0);
    const bad = new Uint8Array([BAD, ...new TextEncoder().encode("forged demand")]);
    await b.gossip.publish("demand", bad);
    await b.gossip.publish("demand", new TextEncoder().encode("honest demand after the forged one"));

    await waitFor("A to reject B's forged message", () => a.validations.some((v) => v.verdict === "reject"));
    await waitFor("A to lower B's score below zero", () => a.gossip.peerScore(b.id) < 0);
    await waitFor("C to receive B's later honest message", () =>
      c.received.some((r) => r.text === "honest demand after the forged one"),
    );
    expect(c.validations.some((v) => v.verdict === "reject")).toBe(false);
    expect(c.received.some((r) => r.text.endsWith("forged demand"))).toBe(false);
    expect(a.received.some((r) => r.text.endsWith("forged demand"))).toBe(false);
    expect(a.gossip.peerScore(c.id)).toBeGreaterThanOrEqual(0);
  });

  it("tells when a topic gains a subscriber peer after having none, and not for later ones", async () => {
    const a = await startNode([]);
    const b = await startNode([tcpAddress(a.host)]);
    const sees = (x: TestNode, y: TestNode) =>
      GOSSIP_KINDS.every((k) => x.gossip.topicPeers(k).includes(y.id));
    await waitFor("A and B to see each other on every topic", () => sees(a, b) && sees(b, a));
    expect([...a.linked].sort()).toEqual([...GOSSIP_KINDS].sort());
    expect([...b.linked].sort()).toEqual([...GOSSIP_KINDS].sort());

    const c = await startNode([tcpAddress(a.host)]);
    await waitFor("A to see C on every topic", () =>
      GOSSIP_KINDS.every((k) => a.gossip.topicPeers(k).includes(c.id)),
    );
    expect(a.linked).toHaveLength(GOSSIP_KINDS.length);

    await Promise.all([b.host.stop(), c.host.stop()]);
    await waitFor("A to hold no subscriber", () =>
      GOSSIP_KINDS.every((k) => a.gossip.topicPeers(k).length === 0),
    );
    const d = await startNode([tcpAddress(a.host)]);
    await waitFor("A to see D on every topic", () =>
      GOSSIP_KINDS.every((k) => a.gossip.topicPeers(k).includes(d.id)),
    );
    expect(a.linked).toHaveLength(2 * GOSSIP_KINDS.length);
  });

  it("counts a throwing validator as ignore and delivers nothing", async () => {
    const a = await startNode([]);
    const host = await createHost({
      privateKey: await generateKeyPair("Ed25519"),
      listen: ["/ip4/127.0.0.1/tcp/0"],
      bootstrap: [tcpAddress(a.host)],
      heartbeatIntervalMs: 200,
    });
    hosts.push(host);
    const errors: unknown[] = [];
    const delivered: string[] = [];
    const gossip = createGossip(host.libp2p, CONTRACT, {
      validate: () => {
        throw new Error("validator bug");
      },
      onMessage: (_k, bytes) => delivered.push(new TextDecoder().decode(bytes)),
      onError: (err) => errors.push(err),
    });
    await waitFor("mesh A-B on commit", () => gossip.meshPeers("commit").includes(a.id));
    await waitFor("A to see B subscribed", () => a.gossip.meshPeers("commit").length === 1);
    await a.gossip.publish("commit", new TextEncoder().encode("p1"));
    await waitFor("the validator to throw", () => gossip.validatorErrors() === 1);
    expect(errors).toHaveLength(1);
    expect(delivered).toEqual([]);
    // Ignore is not Reject: A is not penalised.
    expect(gossip.peerScore(a.id)).toBeGreaterThanOrEqual(0);
  });
});

/** gossipsub state its public interface leaves out, read to set up a deterministic test. */
function outboundStreams(node: TestNode): Map<string, unknown> {
  return (node.host.libp2p.services.pubsub as unknown as { streamsOutbound: Map<string, unknown> })
    .streamsOutbound;
}

describe("flood publishing", () => {
  it("sends a flooded message to every subscriber, an ordinary one to the mesh", {
    timeout: 30_000,
  }, async () => {
    // A star of 14 leaves: the hub's mesh holds D_hi = 12 of them and refuses the others' GRAFTs.
    // No discovery or heartbeat in the test's time, so the leaves stay linked to the hub alone
    // and the meshes do not change.
    const quiet = { heartbeatIntervalMs: 60_000, discoveryIntervalMs: 600_000, peerExchangeAfterMs: 600_000 };
    const hub = await startNode([], quiet);
    const leaves = await Promise.all(
      Array.from({ length: 14 }, () => startNode([tcpAddress(hub.host)], quiet)),
    );
    await waitFor(
      "the hub's full mesh, every leaf's subscription and a stream to each",
      () =>
        hub.gossip.meshPeers("membership").length === 12 &&
        hub.gossip.topicPeers("membership").length === 14 &&
        leaves.every((l) => outboundStreams(hub).has(l.id)),
    );

    const holding = (text: string) => leaves.filter((l) => l.received.some((r) => r.text === text));
    await hub.gossip.publish("membership", new TextEncoder().encode("to the mesh"));
    await hub.gossip.publish("membership", new TextEncoder().encode("to all"), { flood: true });
    await waitFor("every leaf to receive the flooded message", () => holding("to all").length === 14);
    // Each leaf hears the hub on one stream, in order: one flooded message later, any copy of the
    // ordinary one that was sent has arrived.
    await hub.gossip.publish("membership", new TextEncoder().encode("to all again"), { flood: true });
    await waitFor("every leaf to receive the second", () => holding("to all again").length === 14);
    expect(
      holding("to the mesh")
        .map((l) => l.id)
        .sort(),
    ).toEqual(hub.gossip.meshPeers("membership").sort());
    expect(leaves.every((l) => l.received.every((r) => r.from === hub.id))).toBe(true);
  });
});
