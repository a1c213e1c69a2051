import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { openStore } from "@walras/node";
import {
  type AgentProfile,
  type Certificate,
  type Contract,
  contractSchema,
  createPrng,
  decodeMessage,
  verifyCertificate,
} from "@walras/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { type NodeProcess, spawnNode } from "./support/node-process.ts";
import { waitFor } from "./support/wait-for.ts";

/**
 * A whole node process killed with SIGKILL again and again while it runs rounds (and so writes
 * its store several times per round): after every kill the store opens cleanly, passes SQLite's
 * integrity check and holds only whole, decodable messages; restarted each time on the same data
 * dir, the node finally reaches a certificate that verifies.
 */

// One agent alone and a small fixed step: thousands of rounds, each a few store writes, so a
// kill lands mid-write.
const contract: Contract = contractSchema.parse({
  name: "store-crash",
  resources: [{ id: "capacity", capacity: 3 }],
  fees: { perUnit: 0.5, fixed: 0 },
  priceRule: { kind: "gradient", step: 0.002 },
  minMembers: 1,
  maxRounds: 100_000,
  timeouts: { roundMs: 1000, announceMs: 100 },
});
const profile: AgentProfile = {
  valuation: { kind: "log", alpha: 10 },
  cost: { kind: "linear", beta: 1 },
  footprint: [1],
}; // demands 5.7 at price 0: capacity binds
const root = mkdtempSync(join(tmpdir(), "walras-crash-"));
const dataDir = join(root, "node");
let proc: NodeProcess | null = null;

afterAll(async () => {
  await proc?.kill("SIGKILL");
  if (!process.env.KEEP) rmSync(root, { recursive: true, force: true });
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
  it("the store opens cleanly after every kill and the node still certifies", async () => {
    const prng = createPrng(7);
    const counts: number[] = [];
    for (let i = 0; i < 6; i++) {
      proc = await spawnNode({ contract, profile, dataDir });
      const node = proc;
      const from = (await node.status()).round ?? 0;
      const ahead = 5 + Math.floor(prng() * 100);
      // Kill once it has gone on writing for a varying number of rounds past its replay.
      await waitFor(
        async () => {
          const s = await node.status();
          return (s.round ?? 0) >= from + ahead || s.certificate !== null;
        },
        { timeoutMs: 30_000, what: `round ${from + ahead}`, intervalMs: 5 },
      );
      await proc.kill("SIGKILL");
      counts.push(checkStore());
    }
    expect(counts.at(-1)).toBeGreaterThan(counts[0] as number);

    proc = await spawnNode({ contract, profile, dataDir });
    await waitFor(async () => (await proc?.status())?.certificate !== null, {
      timeoutMs: 120_000,
      what: "a certificate after the last restart",
    });
    await proc.kill("SIGTERM");
    proc = null;
    const store = openStore(dataDir);
    const cert = JSON.parse(new TextDecoder().decode(store.latestCertificate()?.bytes)) as Certificate;
    store.close();
    expect(verifyCertificate(cert, contract)).toMatchObject({ ok: true });
    console.info(
      `store crash: messages stored after each kill ${counts.join(", ")}; certified at epoch ${cert.commit.epoch}`,
    );
  });
});
