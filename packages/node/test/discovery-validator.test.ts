import { generateKeyPair, publicKeyToProtobuf } from "@libp2p/crypto/keys";
import type { PeerId } from "@libp2p/interface";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { multiaddr } from "@multiformats/multiaddr";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { DISCOVERY_TOPIC } from "../src/network/discovery-announcement.ts";
import type { createHost, Host } from "../src/network/host.ts";
import { loopbackHosts } from "./loopback-hosts.ts";
import { waitFor } from "./wait-for.ts";

const start = loopbackHosts();
const PRUNE_AGE_MS = 8_000;

/** The package's protobuf Peer message, written by hand so a test can make any variant of it. */
function encodePeer(publicKey: Uint8Array, addrs: readonly Uint8Array[]): Uint8Array {
  const varint = (n: number): number[] => {
    const out: number[] = [];
    while (n > 127) {
      out.push((n & 127) | 128);
      n >>>= 7;
    }
    out.push(n);
    return out;
  };
  const field = (tag: number, b: Uint8Array) => [tag, ...varint(b.length), ...b];
  return new Uint8Array([...field(0x0a, publicKey), ...addrs.flatMap((a) => field(0x12, a))]);
}

/** An announcement under a fresh key, with `addrCount` addresses (closed ports: dials fail fast). */
async function announcement(addrCount: number): Promise<{ peer: PeerId; bytes: Uint8Array }> {
  const key = await generateKeyPair("Ed25519");
  const addrs = Array.from(
    { length: addrCount },
    (_, i) => multiaddr(`/ip4/127.0.0.${1 + (i % 200)}/tcp/1`).bytes,
  );
  return { peer: peerIdFromPrivateKey(key), bytes: encodePeer(publicKeyToProtobuf(key.publicKey), addrs) };
}

/** The hostile peer publishes raw bytes on the discovery topic to every subscriber. */
async function publish(host: Host, bytes: Uint8Array): Promise<void> {
  const router = host.libp2p.services.pubsub as unknown as {
    publish(topic: string, data: Uint8Array, opts: { floodPublish: boolean }): Promise<unknown>;
  };
  await router.publish(DISCOVERY_TOPIC, bytes, { floodPublish: true });
}

async function rejected(registry: Registry, reason: string): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find(
    (m) => m.name === "walras_discovery_rejected_total",
  );
  return Number(metric?.values.find((v) => v.labels.reason === reason)?.value ?? 0);
}

async function stored(host: Host, peer: PeerId): Promise<boolean> {
  return host.libp2p.peerStore.has(peer);
}

/** A victim and a hostile peer connected to it, each seeing the other on the discovery topic. */
async function victimAndAttacker(victimInit: Partial<Parameters<typeof createHost>[0]> = {}) {
  const registry = new Registry();
  const victim = await start({ metricsRegistry: registry, ...victimInit });
  const attacker = await start({ bootstrap: [victim.libp2p.getMultiaddrs()[0]?.toString() ?? ""] });
  await attacker.bootstrapped;
  await waitFor("the victim on the attacker's discovery topic", () =>
    attacker.libp2p.services.pubsub
      .getSubscribers(DISCOVERY_TOPIC)
      .some((p) => p.equals(victim.libp2p.peerId)),
  );
  return { registry, victim, attacker };
}

describe("discovery topic validation", () => {
  it("rejects oversized, over-many-address and malformed announcements, counts them, lowers the sender's score and stores none", async () => {
    const { registry, victim, attacker } = await victimAndAttacker();
    const oversize = await announcement(250); // 250 addresses of 10 bytes each: over 2 KiB
    const tooMany = await announcement(9); // small, but one address over the limit
    const key = await generateKeyPair("Ed25519");
    const badAddr = encodePeer(publicKeyToProtobuf(key.publicKey), [new Uint8Array([0xff, 0xff, 0x03, 1])]);
    for (const bytes of [oversize.bytes, tooMany.bytes, badAddr, new Uint8Array([0x0a, 0x50, 1, 2])])
      await publish(attacker, bytes);
    // Published last on the same connection, so once it is stored the others were judged.
    const honest = await announcement(2);
    await publish(attacker, honest.bytes);

    await waitFor("the valid announcement in the victim's peer store", () => stored(victim, honest.peer));
    expect(await stored(victim, oversize.peer)).toBe(false);
    expect(await stored(victim, tooMany.peer)).toBe(false);
    expect(await stored(victim, peerIdFromPrivateKey(key))).toBe(false);
    expect(await rejected(registry, "oversize")).toBe(1);
    expect(await rejected(registry, "too_many_addrs")).toBe(1);
    expect(await rejected(registry, "bad_multiaddr")).toBe(1);
    expect(await rejected(registry, "malformed")).toBe(1);
    const score = victim.libp2p.services.pubsub as unknown as { getScore(peer: string): number };
    await waitFor(
      "the attacker's score below zero",
      () => score.getScore(attacker.libp2p.peerId.toString()) < 0,
    );
  });

  it("bounds what a flood of valid announcements under fresh keys adds to the peer store, and prunes it", async () => {
    const { registry, victim, attacker } = await victimAndAttacker({
      // Entries live 8 s: well past the flood (300 publishes, stored within a second or two even
      // on a loaded machine), so the count below sees them all before the first can go.
      peerStorePruning: { maxAgeMs: PRUNE_AGE_MS, maxPeers: 1_000, sweepMs: 200 },
    });
    const before = (await victim.libp2p.peerStore.all()).length;
    const flood = await Promise.all(Array.from({ length: 300 }, () => announcement(1)));
    const floodFrom = Date.now();
    for (const a of flood) await publish(attacker, a.bytes);

    // The victim takes 100 at once and 10 a second after; the rest are ignored or, once the
    // attacker is past twice that, rejected (and once it is graylisted, dropped unread).
    await waitFor(
      "the attacker rejected for its rate, and the accepted part of the flood stored",
      async () =>
        (await rejected(registry, "busy")) > 0 &&
        (await rejected(registry, "rate")) > 0 &&
        (await Promise.all(flood.map((a) => stored(victim, a.peer)))).filter(Boolean).length >= 90,
    );
    const added = (await Promise.all(flood.map((a) => stored(victim, a.peer)))).filter(Boolean).length;
    expect(added).toBeGreaterThan(0);
    expect(added).toBeLessThan(150);

    await waitFor(
      "the flooded peers pruned from the victim's peer store",
      async () => (await Promise.all(flood.map((a) => stored(victim, a.peer)))).every((s) => !s),
      { timeoutMs: PRUNE_AGE_MS + 20_000 },
    );
    // Pruned for their age, not before: each is first seen by a sweep after the flood began, and
    // goes once older than the age.
    expect(Date.now() - floodFrom).toBeGreaterThan(PRUNE_AGE_MS);
    // The attacker itself is connected, so it stays.
    expect(await victim.libp2p.peerStore.has(attacker.libp2p.peerId)).toBe(true);
    expect((await victim.libp2p.peerStore.all()).length).toBeLessThanOrEqual(before);
  });

  it("removes a discovered peer that left, and keeps the connected bootstrap peer", async () => {
    // One peer each, so A and B learn of each other only by announcement and never connect.
    const lone = {
      discoveryIntervalMs: 200,
      discoveryDials: { targetPeers: 1, minPeers: 1, deferMs: 60_000 },
    };
    const hub = await start(lone);
    const bootstrap = [`${hub.libp2p.getMultiaddrs()[0]?.toString()}/p2p/${hub.libp2p.peerId}`];
    const registry = new Registry();
    const a = await start({
      ...lone,
      bootstrap,
      metricsRegistry: registry,
      peerStorePruning: { maxAgeMs: 500, maxPeers: 1_000, sweepMs: 100 },
    });
    const b = await start({ ...lone, bootstrap });
    await waitFor("B's announcement in A's peer store", () => a.libp2p.peerStore.has(b.libp2p.peerId));
    await b.stop();

    await waitFor(
      "B pruned from A's peer store",
      async () => !(await a.libp2p.peerStore.has(b.libp2p.peerId)),
    );
    expect(a.libp2p.getConnections(b.libp2p.peerId)).toHaveLength(0);
    expect(await a.libp2p.peerStore.has(hub.libp2p.peerId)).toBe(true);
    // Honest announcements, as @libp2p/pubsub-peer-discovery encodes them, pass the validator.
    const metric = (await registry.getMetricsAsJSON()).find(
      (m) => m.name === "walras_discovery_rejected_total",
    );
    expect(metric?.values.reduce((sum, v) => sum + v.value, 0) ?? 0).toBe(0);
  });
});
