import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { lpStream } from "@libp2p/utils";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import type { createHost } from "../src/network/host.ts";
import { MAX_EXCHANGED_PEERS, PEER_EXCHANGE_PROTOCOL, parseAnswer } from "../src/network/peer-exchange.ts";
import { loopbackHosts } from "./loopback-hosts.ts";
import { waitFor } from "./wait-for.ts";

/** Dials are left to the smaller id for longer than any test here runs. */
const NO_DEFERRED_DIALS = { targetPeers: 12, minPeers: 6, deferMs: 120_000 };

const start = loopbackHosts({
  discoveryDials: NO_DEFERRED_DIALS,
  discoveryIntervalMs: 300,
  peerExchange: { firstAfterMs: 500, intervalMs: 500 },
});

const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const someId = async () => peerIdFromPrivateKey(await generateKeyPair("Ed25519")).toString();

describe("peer exchange", () => {
  it("connects a node to peers it never heard announce, through the peers it is connected to", async () => {
    // No announcement ever goes out (the first is skipped with no subscribers, the next is an
    // hour away): what a node learns beyond its bootstrap peer, it learns by peer exchange.
    const silent = { discoveryIntervalMs: 3_600_000 };
    const registries: Registry[] = [];
    const startCounted = (init: Partial<Parameters<typeof createHost>[0]>) => {
      const metricsRegistry = new Registry();
      registries.push(metricsRegistry);
      return start({ ...silent, ...init, metricsRegistry });
    };
    const first = await startCounted({});
    const bootstrap = [first.libp2p.getMultiaddrs()[0]?.toString() ?? ""];
    const others = await Promise.all(Array.from({ length: 4 }, () => startCounted({ bootstrap })));
    await waitFor("four hosts connected to the first", () => first.libp2p.getPeers().length >= 4);
    const newcomer = await startCounted({ bootstrap });
    await waitFor("the newcomer connected to all five", () => newcomer.libp2p.getPeers().length === 5);
    await waitFor("each of the others connected to the newcomer once", () =>
      others.every((h) => h.libp2p.getConnections(newcomer.libp2p.peerId).length === 1),
    );
    // Who asked whom depends on timing (the newcomer, or the others, each short of peers).
    const counted = await Promise.all(
      registries.map((r) => r.getSingleMetricAsString("walras_peer_exchange_total")),
    );
    expect(counted.some((c) => /outcome="received"\} [1-9]/.test(c))).toBe(true);
    expect(counted.some((c) => /outcome="invalid"\} [1-9]/.test(c))).toBe(false);
  });

  it("answers a peer once per interval and aborts a second ask at once", async () => {
    const registry = new Registry();
    const server = await start({ metricsRegistry: registry });
    // The neighbour never asks the server itself (its first ask an hour away): the server's
    // counts below are the asker's alone.
    const neighbour = await start({
      bootstrap: [server.libp2p.getMultiaddrs()[0]?.toString() ?? ""],
      peerExchange: { firstAfterMs: 3_600_000, intervalMs: 3_600_000 },
    });
    const asker = await start({ discoveryDials: { targetPeers: 0, minPeers: 0, deferMs: 0 } });
    await waitFor("the neighbour connected", () => server.libp2p.getPeers().length === 1);
    await waitFor("the neighbour identified", async () => {
      const peer = await server.libp2p.peerStore.get(neighbour.libp2p.peerId).catch(() => null);
      return (peer?.addresses.length ?? 0) > 0;
    });
    const serverAddr = server.libp2p.getMultiaddrs()[0];
    if (!serverAddr) throw new Error("server has no address");
    const count = async (outcome: string) =>
      (await registry.getSingleMetric("walras_peer_exchange_total")?.get())?.values.find(
        (v) => v.labels.outcome === outcome,
      )?.value ?? 0;
    const servedBefore = await count("served");
    const refusedBefore = await count("refused");
    const read = async () => {
      const stream = await asker.libp2p.dialProtocol(serverAddr, PEER_EXCHANGE_PROTOCOL);
      const bytes = (await lpStream(stream, { maxDataLength: 16 * 1024 }).read()).subarray();
      await stream.close();
      return bytes;
    };
    const answer = parseAnswer(await read(), asker.libp2p.peerId.toString());
    if (!answer.ok) throw new Error(answer.error);
    expect(answer.peers.map((p) => p.id.toString())).toEqual([neighbour.libp2p.peerId.toString()]);
    const listening = neighbour.libp2p.getMultiaddrs()[0]?.decapsulateCode(421).toString();
    expect(answer.peers[0]?.addrs.map(String)).toContain(listening);
    await expect(read()).rejects.toThrow();
    await waitFor("the refusal counted", async () => (await count("refused")) > refusedBefore);
    // Exactly one answer and one refusal: ours.
    expect(await count("refused")).toBe(refusedBefore + 1);
    expect(await count("served")).toBe(servedBefore + 1);
  });

  it("rejects a malformed answer with the field that is wrong, and drops the asker's own entry", async () => {
    const self = await someId();
    const other = await someId();
    const addr = "/ip4/127.0.0.1/tcp/4001";
    const ok = parseAnswer(
      encode({
        peers: [
          { id: self, addrs: [addr] },
          { id: other, addrs: [addr] },
        ],
      }),
      self,
    );
    expect(ok.ok && ok.peers.map((p) => p.id.toString())).toEqual([other]);
    const cases: [unknown, RegExp][] = [
      [{ peers: [{ id: "not-a-peer-id", addrs: [addr] }] }, /^invalid answer at peers\.0: /],
      [{ peers: [{ id: other, addrs: ["not-a-multiaddr"] }] }, /^invalid answer at peers\.0: /],
      [
        { peers: Array.from({ length: MAX_EXCHANGED_PEERS + 1 }, () => ({ id: other, addrs: [] })) },
        /at peers: /,
      ],
      [{ peers: [{ id: other, addrs: Array(9).fill(addr) }] }, /at peers\.0\.addrs: /],
      [{ nodes: [] }, /at peers: /],
    ];
    for (const [body, error] of cases) {
      const parsed = parseAnswer(encode(body), self);
      expect(parsed.ok ? "accepted" : parsed.error).toMatch(error);
    }
    const garbage = parseAnswer(new Uint8Array([0xff, 0xfe]), self);
    expect(garbage.ok ? "accepted" : garbage.error).toMatch(/^answer is not UTF-8 JSON: /);
  });
});
