import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { WalrasNode } from "@walras/node";
import {
  type AgentProfile,
  type Certificate,
  contractId,
  scenarioSchema,
  solveReference,
} from "@walras/protocol";
import {
  type Cluster,
  type ConnectionGater,
  floodSync,
  type HostilePeer,
  type NodeProcess,
  paperProfiles,
  peerGater,
  processCpuMs,
  type SyncFloodReport,
  spawnNode,
  startCluster,
  startHostilePeer,
  testContract,
  waitFor,
} from "@walras/test-support";
import { afterAll, describe, expect, it } from "vitest";

/**
 * A peer of our own floods one node with the most expensive request the sync protocol allows
 * ("every message of epoch 0") over 8 concurrent streams while a third node joins and catches up
 * through that node only, and on after the market has settled. The victim runs in its own process
 * so that its CPU can be read alone. It must serve the honest newcomer, refuse the flood beyond
 * the peer's budget (and count it), serve no more than the budget allows, and stay well below a
 * core while the flood goes on.
 */

const contract = testContract("sync-flood", { minMembers: 3 });
const id = contractId(contract);
const profiles = paperProfiles(3, 23);
const root = mkdtempSync(join(tmpdir(), "walras-sync-flood-"));
/** The victim's budget of messages served to one peer (DEFAULT_SYNC_QUOTAS) per window. */
const QUOTA = 4_096;
/** One answer may overdraw the budget by up to a page (MAX_SYNC_PAGE). */
const PAGE = 256;
/** Refusals the victim's CPU is measured over once the market has settled: a printed figure. */
const QUIET_REFUSALS = 60;
const QUOTA_WINDOW_MS = 10_000;

let victim: NodeProcess | null = null;
let cluster: Cluster | null = null;
let flooder: HostilePeer | null = null;

afterAll(async () => {
  await flooder?.stop();
  await cluster?.stop();
  await victim?.kill("SIGKILL");
  rmSync(root, { recursive: true, force: true });
});

/** A gater that keeps a node away from `peers`: its only way in is the victim. */
function avoiding(peers: readonly string[]): ConnectionGater {
  return peerGater((peer) => peers.includes(peer));
}

/** The sum of a node's samples of `metric` whose labels include `label` (from /metrics). */
async function metric(node: NodeProcess, metric: string, label: string): Promise<number> {
  const text = await (await fetch(`${node.httpUrl}/metrics`)).text();
  return text
    .split("\n")
    .filter((l) => (l.startsWith(`${metric}{`) || l.startsWith(`${metric} `)) && l.includes(label))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);
}

describe("a sync flood against one node", () => {
  it("is refused beyond the peer's budget, and honest catch-up goes on", async () => {
    victim = await spawnNode({
      contract,
      profile: profiles[0] as AgentProfile,
      dataDir: join(root, "victim"),
    });
    const v = victim;
    cluster = await startCluster(contract, [], { bootstrap: [v.multiaddr] });
    const partner = await cluster.add(profiles[1] as AgentProfile);
    flooder = await startHostilePeer({
      contractId: id,
      targets: [v.multiaddr],
      targetIds: [v.peerId],
      dir: root,
      name: "flooder",
    });

    let endFlood = () => {};
    const stop = new Promise<void>((resolve) => {
      endFlood = resolve;
    });
    const started = performance.now();
    const flood: Promise<SyncFloodReport> = floodSync(
      flooder.host,
      v.peerId,
      { type: "messages", contractId: id, epoch: 0 },
      { streams: 8, stop },
    );

    // The newcomer reaches the market only through the victim, and loses a third of its gossip:
    // what it misses, it must fetch from the victim while the flood runs.
    const newcomer = await cluster.add(profiles[2] as AgentProfile, {
      connectionGater: avoiding([partner.peerId, flooder.peerId]),
      inboundLoss: 0.3,
    });
    const honest: WalrasNode[] = [partner, newcomer];
    let victimDigest: string | undefined;
    // The certificate all three agreed on, kept as the wait saw it: the flood runs on for a while,
    // and a later epoch (a member starved long enough on a loaded machine) would be another market.
    let cert = null as Certificate | null;
    await waitFor(
      async () => {
        victimDigest = (await v.status()).certificate?.digest;
        const agreed =
          victimDigest !== undefined &&
          honest.every((n) => n.status().certificate?.digest === victimDigest) &&
          newcomer.status().certificate?.members.length === 3;
        if (agreed) cert = newcomer.certificate();
        return agreed;
      },
      { timeoutMs: 120_000, what: "one certificate for all three members" },
    );
    // Refused with an error once over budget, or reset unread once graylisted or banned for
    // flooding (sync-ban.ts).
    const refused = async () =>
      (await metric(v, "walras_sync_requests_served_total", 'outcome="refused"')) +
      (await metric(v, "walras_sync_requests_served_total", 'outcome="banned"'));
    // Now the market is settled and only the flood goes on: measure what it costs the victim over
    // its next refusals (few: a banned flooder's streams are held unread, so they come slowly).
    const quietFrom = performance.now();
    const quietCpu = processCpuMs(v.child.pid as number);
    const refusedBefore = await refused();
    // Polled once a second: a scrape of /metrics costs the victim CPU of its own.
    await waitFor(async () => (await refused()) >= refusedBefore + QUIET_REFUSALS, {
      intervalMs: 1_000,
      timeoutMs: 120_000,
      what: `the victim to refuse ${QUIET_REFUSALS} more flood requests`,
    });
    const floodCpuMs = processCpuMs(v.child.pid as number) - quietCpu;
    const floodMs = performance.now() - quietFrom;
    endFlood();
    const report = await flood;
    const elapsedMs = performance.now() - started;
    const refusedByVictim = await refused();
    const bans = await metric(v, "walras_sync_bans_total", "");
    const newcomerAnswered = (await newcomer.metrics.syncRequestsSent.get()).values
      .filter((x) => x.labels.outcome === "answered")
      .reduce((sum, x) => sum + x.value, 0);
    console.info(
      `sync flood: ${report.requests} requests in ${(elapsedMs / 1000).toFixed(1)} s (${report.answered} answered, ` +
        `${report.refused} refused, ${report.failed} failed), ${report.messages} messages served; ` +
        `victim CPU over the last ${QUIET_REFUSALS} refusals ${(floodCpuMs / 1000).toFixed(2)} s in ${(floodMs / 1000).toFixed(1)} s ` +
        `(${((100 * floodCpuMs) / floodMs).toFixed(0)}% of one core); flooder banned ${bans} times; newcomer's sync requests answered: ${newcomerAnswered}`,
    );

    // The honest market: the certificate is the reference equilibrium of the three agents.
    const scenario = scenarioSchema.parse({
      contract,
      agents: [v.peerId, partner.peerId, newcomer.peerId].map((agent, i) => ({ id: agent, ...profiles[i] })),
    });
    const reference = solveReference(scenario);
    expect(cert?.commit.prices[0]).toBeCloseTo(reference.prices[0] as number, 4);
    // Each member's allocation too: the same three agents, each as close as the price.
    const agents = (list: readonly { agent: string }[]) => list.map((a) => a.agent).sort();
    expect(agents(cert?.commit.allocations ?? [])).toEqual(agents(reference.allocations));
    for (const r of reference.allocations)
      expect(cert?.commit.allocations.find((a) => a.agent === r.agent)?.x).toBeCloseTo(r.x, 4);
    // Honest catch-up went through the victim while it was flooded.
    expect(newcomerAnswered).toBeGreaterThan(0);
    // The flood was refused, and every refusal counted on the victim.
    expect(report.refused).toBeGreaterThan(0);
    expect(refusedByVictim).toBeGreaterThanOrEqual(report.refused + report.failed);
    // No more served than the budget: a full bucket, then its refill over the flood.
    const budget = QUOTA * (1 + elapsedMs / QUOTA_WINDOW_MS) + PAGE;
    expect(report.messages).toBeLessThanOrEqual(budget);
    // The victim's CPU share during the flood is printed above, not asserted: a share of wall
    // time on a shared machine is a loose measure (10-13% alone, 23% once beside other test
    // files), a figure for a benchmark, not a test; the budget above is the exact bound.
  }, 240_000);
});
