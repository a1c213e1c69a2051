import type { WalrasNode } from "@walras/node";
import { type Contract, verifyCertificate } from "@walras/protocol";
import {
  type Cluster,
  paperProfiles,
  referenceFor,
  startCluster,
  testContract,
  waitForCertificate,
} from "@walras/test-support";
import { afterEach, describe, expect, it } from "vitest";

/**
 * Gossip loss between peers (each node drops this fraction of inbound gossip before validation):
 * the nodes still converge, catching up over the sync protocol, to the reference equilibrium.
 * Rounds stay the same (the maths does not see the loss); what grows is the time per round, since
 * a missing demand waits for a sync request (half a round timeout). Figures are printed.
 */

const ROUND_MS = 1000;
const contract: Contract = testContract("loss", { timeouts: { roundMs: ROUND_MS, announceMs: 300 } });
const profiles = paperProfiles(5, 41);

let cluster: Cluster | null = null;
afterEach(async () => {
  await cluster?.stop();
  cluster = null;
});

async function run(loss: number): Promise<{ rounds: number; ms: number; epoch: number }> {
  cluster = await startCluster(contract, profiles, loss > 0 ? { inboundLoss: loss } : {});
  const nodes = cluster.nodes;
  const started = Date.now();
  await waitForCertificate(nodes, 120_000);
  const ms = Date.now() - started;
  const ref = referenceFor(contract, nodes, profiles);
  const cert = nodes[0]?.certificate();
  if (!cert) throw new Error("no certificate");
  expect(verifyCertificate(cert, contract)).toMatchObject({ ok: true });
  for (const n of nodes) expect(n.certificate()?.commit).toEqual(cert.commit);
  const p = ref.prices[0] as number;
  expect(Math.abs((cert.commit.prices[0] as number) - p) / p).toBeLessThan(1e-6);
  for (const a of cert.commit.allocations) {
    const x = ref.allocations.find((r) => r.agent === a.agent)?.x as number;
    expect(Math.abs(a.x - x)).toBeLessThan(1e-6 * Math.max(1, x));
  }
  const rounds = Math.max(...(await Promise.all(nodes.map(roundsClosed))));
  return { rounds, ms, epoch: cert.commit.epoch };
}

async function roundsClosed(node: WalrasNode): Promise<number> {
  return (await node.metrics.rounds.get()).values[0]?.value ?? 0;
}

describe("gossip loss between peers", () => {
  const figures: string[] = [];
  it.each([0, 0.1, 0.3])("%d loss: converges to the reference equilibrium", async (loss) => {
    const { rounds, ms, epoch } = await run(loss);
    figures.push(`loss ${loss * 100}%: ${rounds} rounds closed, certificate (epoch ${epoch}) after ${ms} ms`);
    console.info(figures.at(-1));
  });
});
