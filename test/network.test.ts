import { type CommitMessage, type Contract, verifyCertificate } from "@walras/protocol";
import {
  type Cluster,
  paperProfiles,
  referenceFor,
  startCluster,
  testContract,
  waitForCertificate,
} from "@walras/test-support";
import { afterEach, describe, expect, it } from "vitest";
// The spec's canonical JSON and body digest, written out by hand in the protocol's tests.
import { specDigest } from "../packages/protocol/test/spec-commit-digest.ts";

function contract(overrides: Record<string, unknown> = {}): Contract {
  return testContract("network-test", overrides);
}

/** Each node's status lists the certified epoch: the body's digest, and when it began and held it. */
function expectCertifiedInStatus(cluster: Cluster) {
  for (const node of cluster.nodes) {
    const cert = node.certificate();
    const status = node.status();
    const entry = status.certified.find((e) => e.epoch === cert?.commit.epoch);
    expect(entry?.digest).toBe(specDigest(cert?.commit as CommitMessage));
    expect(entry?.members).toBe(cert?.commit.members.length);
    expect(entry?.round).toBe(cert?.commit.round);
    expect(status.certificate?.heldSince).toBe(entry?.heldSince);
    expect(entry?.startedAt ?? Number.NaN).toBeLessThanOrEqual(entry?.heldSince ?? Number.NaN);
  }
}

function expectReference(c: Contract, cluster: Cluster) {
  const ref = referenceFor(c, cluster.nodes, cluster.profiles);
  const certs = cluster.nodes.map((n) => n.certificate());
  const first = certs[0];
  if (!first) throw new Error("no certificate");
  for (const cert of certs) expect(cert?.commit).toEqual(first.commit);
  expect(verifyCertificate(first, c)).toMatchObject({ ok: true });
  ref.prices.forEach((p, r) => {
    expect(p).toBeGreaterThan(0);
    expect(Math.abs((first.commit.prices[r] as number) - p) / p).toBeLessThan(1e-6);
  });
  for (const a of first.commit.allocations) {
    const x = ref.allocations.find((r) => r.agent === a.agent)?.x as number;
    expect(Math.abs(a.x - x)).toBeLessThan(1e-6 * Math.max(1, x));
  }
}

let cluster: Cluster | null = null;
afterEach(async () => {
  await cluster?.stop();
  cluster = null;
});

describe("walras nodes over real libp2p (TCP loopback, one process)", () => {
  it.each([{ kind: "newton" }, { kind: "gradient" }])(
    "3 nodes reach one certificate equal to the reference equilibrium ($kind)",
    async (priceRule) => {
      const c = contract({ minMembers: 3, priceRule });
      cluster = await startCluster(c, paperProfiles(3, 1));
      await waitForCertificate(cluster.nodes);
      expectReference(c, cluster);
      expectCertifiedInStatus(cluster);
    },
  );

  it("10 nodes in one process agree bit for bit, whatever order their messages arrived in", async () => {
    const c = contract({ minMembers: 10, resources: [{ id: "capacity", capacity: 20 }] });
    // Over loopback in one process, gossip hands every node the demands in the order they were
    // sent: without loss all ten nodes saw round 0's demands in one order, run after run. Each
    // node drops a fifth of what comes in, so what it lost reaches it later, by another path,
    // and the orders differ; the chance that no node loses any of round 0's 90 demand
    // deliveries is 0.8^90, about 2e-9.
    cluster = await startCluster(c, paperProfiles(10, 2), { inboundLoss: 0.2 });
    // The order in which each node took in round 0's demands from the other nodes (onMessage
    // sees inbound messages only, so a node's own demand is not among them).
    const orders = cluster.nodes.map(() => [] as string[]);
    for (const [i, n] of cluster.nodes.entries()) {
      n.onMessage((m) => {
        if (m.kind === "demand" && m.epoch === 0 && m.round === 0) orders[i]?.push(m.agent);
      });
    }
    await waitForCertificate(cluster.nodes);
    expectReference(c, cluster);
    // Two nodes' orders compared on the agents both took a demand from (never either of the two
    // themselves): the claim is only tested if some pair took them in different orders.
    let differing = 0;
    for (const [i, a] of orders.entries()) {
      for (const b of orders.slice(i + 1)) {
        const common = a.filter((agent) => b.includes(agent));
        expect(common.length).toBeGreaterThan(1);
        const inB = b.filter((agent) => common.includes(agent));
        if (common.join(",") !== inB.join(",")) differing++;
      }
    }
    expect(differing).toBeGreaterThan(0);
  });

  it("two resources with a supplier: the network finds the reference equilibrium", async () => {
    const c = contract({
      minMembers: 4,
      resources: [
        { id: "cpu", capacity: 5 },
        { id: "energy", capacity: 2 },
      ],
    });
    const consumers = paperProfiles(3, 3).map((p, i) => ({ ...p, footprint: [1, 0.5 + 0.25 * i] }));
    const supplier = {
      valuation: { kind: "log" as const, alpha: 2 },
      cost: { kind: "quadratic" as const, beta: 0.2, c: 1 },
      footprint: [0, -1],
    };
    cluster = await startCluster(c, [...consumers, supplier]);
    await waitForCertificate(cluster.nodes);
    expectReference(c, cluster);
  });
});
