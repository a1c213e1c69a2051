import type { WalrasNode } from "@walras/node";
import { type Certificate, type Contract, certificateDigest, verifyCertificate } from "@walras/protocol";
import {
  type Cluster,
  type ConnectionGater,
  paperProfiles,
  peerGater,
  referenceFor,
  startCluster,
  testContract,
  waitFor,
  waitForCertificate,
} from "@walras/test-support";
import { afterAll, describe, expect, it } from "vitest";

/**
 * Five nodes split 3|2 mid-run by libp2p connection gating (each node refuses connections to and
 * from the other side, and existing connections are closed), then healed. Only the majority may
 * move on; afterwards all five agree on one equilibrium, and no two certificates for one epoch
 * differ anywhere.
 */

const ROUND_MS = 1500;
const contract: Contract = testContract("partition", {
  // The fixed-step rule takes over a hundred rounds: time to cut the network mid-run.
  priceRule: { kind: "gradient" },
  timeouts: { roundMs: ROUND_MS, announceMs: 300 },
});

/** A deny-list gater: the node neither dials nor accepts the peers in `denied`. */
function gater(denied: Set<string>): ConnectionGater {
  return peerGater((peer) => denied.has(peer));
}

const denied: Set<string>[] = Array.from({ length: 5 }, () => new Set());
let cluster: Cluster | null = null;
afterAll(async () => {
  await cluster?.stop();
});

async function cut(nodes: readonly WalrasNode[], sides: readonly (readonly number[])[]): Promise<void> {
  for (const [s, side] of sides.entries()) {
    const others = sides.filter((_, o) => o !== s).flat();
    for (const i of side) for (const o of others) denied[i]?.add((nodes[o] as WalrasNode).peerId);
  }
  await Promise.all(
    nodes.map(async (n, i) => {
      for (const c of n.host.libp2p.getConnections())
        if (denied[i]?.has(c.remotePeer.toString()))
          await c.close().catch(() => c.abort(new Error("partition")));
    }),
  );
}

async function heal(nodes: readonly WalrasNode[]): Promise<void> {
  for (const d of denied) d.clear();
  await Promise.all(
    nodes.flatMap((n, i) =>
      nodes.slice(i + 1).map((m) => n.host.libp2p.dial(m.host.libp2p.peerId).catch(() => undefined)),
    ),
  );
}

describe("a 3|2 partition healed", () => {
  it("only the majority moves on; afterwards one equilibrium, no conflicting certificates", async () => {
    const profiles = paperProfiles(5, 31);
    cluster = await startCluster(contract, []);
    const certs: Certificate[][] = [];
    for (const [i, p] of profiles.entries()) {
      const node = await cluster.add(p, { connectionGater: gater(denied[i] as Set<string>) });
      const mine: Certificate[] = [];
      certs.push(mine);
      node.onAction((a) => {
        if (a.type === "certificate") mine.push(a.certificate);
      });
    }
    const nodes = cluster.nodes;
    await waitFor(() => nodes.every((n) => n.status().epoch === 0 && (n.status().round ?? 0) >= 3), {
      timeoutMs: 60_000,
      what: "five nodes a few rounds into epoch 0",
    });
    expect(nodes.every((n) => n.certificate() === null)).toBe(true);
    const majority = nodes.slice(0, 3);
    const minority = nodes.slice(3);
    await cut(nodes, [
      [0, 1, 2],
      [3, 4],
    ]);

    // The majority drops the silent two after the round timeout and certifies on its own.
    await waitForCertificate(majority, 90_000);
    const ref3 = referenceFor(contract, majority, profiles.slice(0, 3));
    const c3 = majority[0]?.certificate() as Certificate;
    expect(Math.abs((c3.commit.prices[0] as number) - (ref3.prices[0] as number))).toBeLessThan(1e-5);
    // The minority cannot: two of five is no majority of epoch 0.
    for (const n of minority) {
      expect(n.certificate()).toBeNull();
      expect(n.status().epoch).toBe(0);
    }

    await heal(nodes);
    await waitForCertificate(nodes, 90_000);
    const ref = referenceFor(contract, nodes, profiles);
    const final = nodes[0]?.certificate() as Certificate;
    expect(verifyCertificate(final, contract)).toMatchObject({ ok: true });
    expect(Math.abs((final.commit.prices[0] as number) - (ref.prices[0] as number))).toBeLessThan(1e-5);
    for (const a of final.commit.allocations) {
      const x = ref.allocations.find((r) => r.agent === a.agent)?.x as number;
      expect(Math.abs(a.x - x)).toBeLessThan(1e-5);
    }

    // Every certificate any node assembled verifies, and each epoch has exactly one.
    const byEpoch = new Map<number, Set<string>>();
    for (const c of certs.flat()) {
      expect(verifyCertificate(c, contract)).toMatchObject({ ok: true });
      const set = byEpoch.get(c.commit.epoch) ?? new Set();
      set.add(certificateDigest(c));
      byEpoch.set(c.commit.epoch, set);
    }
    for (const [, digests] of byEpoch) expect(digests.size).toBe(1);
    console.info(
      `partition: certificates by epoch ${[...byEpoch.keys()].sort().join(", ")}; final epoch ${final.commit.epoch} with ${final.commit.members.length} members`,
    );
  });
});
