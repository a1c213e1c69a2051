import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { openStore, type WalrasNode } from "@walras/node";
import {
  type AgentProfile,
  type Certificate,
  type Contract,
  contractSchema,
  createPrng,
  decodeMessage,
  scenarioSchema,
  solveReference,
  verifyCertificate,
} from "@walras/protocol";
import {
  type Cluster,
  type NodeProcess,
  paperProfiles,
  spawnNode,
  startCluster,
  waitFor,
} from "@walras/test-support";
import { afterAll, describe, expect, it } from "vitest";

/**
 * A node process killed with SIGKILL again and again while it runs rounds (and so writes its
 * store several times per round) against an in-process partner: after every kill the store opens
 * cleanly, passes SQLite's integrity check and holds only whole, decodable messages; restarted
 * each time on the same data dir, it picks up where it was, and both finally certify the
 * reference equilibrium.
 */

// Two agents and a small fixed step: thousands of network-paced rounds, a few store writes
// each, so a kill at any moment of the run lands among writes. The partner cannot move on alone
// (one of two is no majority), so it waits for each restart to decide anything.
const contract: Contract = contractSchema.parse({
  name: "store-crash",
  resources: [{ id: "capacity", capacity: 3 }],
  fees: { perUnit: 0.5, fixed: 0 },
  priceRule: { kind: "gradient", step: 0.01 },
  minMembers: 2,
  maxRounds: 1_000_000,
  timeouts: { roundMs: 1000, announceMs: 200 },
});
const profiles = paperProfiles(2, 51);
const root = mkdtempSync(join(tmpdir(), "walras-crash-"));
const dataDir = join(root, "victim");
let proc: NodeProcess | null = null;
let cluster: Cluster | null = null;

afterAll(async () => {
  await proc?.kill("SIGKILL");
  await cluster?.stop();
  rmSync(root, { recursive: true, force: true });
});

function checkStore(): number {
  const store = openStore(dataDir);
  const rows = store.allMessages();
  store.close();
  const db = new DatabaseSync(join(dataDir, "walras.sqlite"), { readOnly: true });
  expect(db.prepare("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
  db.close();
  for (const row of rows) expect(decodeMessage(row.bytes).ok).toBe(true);
  return rows.length;
}

describe("kill -9 in a loop while a node process writes its store", () => {
  it("the store opens cleanly after every kill and the market still certifies", async () => {
    cluster = await startCluster(contract, profiles.slice(0, 1));
    const partner = cluster.nodes[0] as WalrasNode;
    const spawnVictim = () =>
      spawnNode({ contract, profile: profiles[1] as AgentProfile, dataDir, bootstrap: partner.multiaddrs() });
    const prng = createPrng(7);
    const counts: number[] = [];
    const rounds: number[] = [];
    for (let i = 0; i < 6; i++) {
      proc = await spawnVictim();
      const node = proc;
      const from = partner.status().round ?? 0;
      await waitFor(async () => (partner.status().round ?? 0) > from + 2 || partner.certificate() !== null, {
        timeoutMs: 60_000,
        what: "rounds to advance with the victim back",
      });
      // The fault itself: a kill at a varying moment of the running market (not a wait for state).
      await new Promise((resolve) => setTimeout(resolve, 100 + Math.floor(prng() * 900)));
      rounds.push(partner.status().round ?? 0);
      await node.kill("SIGKILL");
      counts.push(checkStore());
    }
    // (Between kills the partner may certify alone: a restarted victim accepts the epoch its partner
    // proposed without it while it was down — Paxos lets no later view drop that proposal — and then
    // joins again. Each kill above still landed while rounds ran with the victim.)
    expect(counts.at(-1)).toBeGreaterThan(counts[0] as number);

    proc = await spawnVictim();
    const victimId = proc.peerId;
    // Restarted, the victim may first accept the epoch its partner proposed without it while it
    // was down (a decided plan, certified by the partner alone); it then joins again. What counts is
    // the certificate naming both.
    await waitFor(
      async () => {
        const mine = partner.status().certificate;
        return (
          mine !== null &&
          mine.members.length === 2 &&
          (await proc?.status())?.certificate?.digest === mine.digest
        );
      },
      { timeoutMs: 120_000, what: "one certificate naming both, on both, after the last restart" },
    );
    const cert = partner.certificate() as Certificate;
    expect(verifyCertificate(cert, contract)).toMatchObject({ ok: true });
    const ref = solveReference(
      scenarioSchema.parse({
        contract,
        agents: [
          { id: partner.peerId, ...profiles[0] },
          { id: victimId, ...profiles[1] },
        ],
      }),
    );
    const p = ref.prices[0] as number;
    expect(p).toBeGreaterThan(0);
    expect(Math.abs((cert.commit.prices[0] as number) - p) / p).toBeLessThan(1e-5);
    // And each member's allocation is the reference's: the same agents, each within 1e-5.
    const agents = (list: readonly { agent: string }[]) => list.map((a) => a.agent).sort();
    expect(agents(cert.commit.allocations)).toEqual(agents(ref.allocations));
    for (const r of ref.allocations) {
      const x = cert.commit.allocations.find((a) => a.agent === r.agent)?.x ?? Number.NaN;
      expect(Math.abs(x - r.x) / Math.max(1, r.x)).toBeLessThan(1e-5);
    }
    console.info(
      `store crash: killed at rounds ${rounds.join(", ")}; messages on disk after each kill ${counts.join(", ")}; ` +
        `certified at round ${cert.commit.round}`,
    );
  });
});
