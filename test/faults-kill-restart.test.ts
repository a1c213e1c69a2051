import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { NodeStatus } from "@walras/node";
import {
  type AgentProfile,
  type Certificate,
  type Contract,
  certificateDigest,
  scenarioSchema,
  solveReference,
  verifyCertificate,
} from "@walras/protocol";
import { type NodeProcess, paperProfiles, spawnNode, testContract, waitFor } from "@walras/test-support";
import { afterAll, describe, expect, it } from "vitest";

/**
 * Five nodes, each its own OS process. One is SIGKILLed mid-run: the other four drop it after the
 * contract's round timeout and reach the four-agent equilibrium. Restarted on the same data dir it
 * is the same peer, its stored messages are all there, it catches up over the sync protocol and
 * rejoins: five members again. Killed once more after that certificate, its store still holds it.
 */

const ROUND_MS = 2000;
// The paper's fixed-step rule takes over a hundred rounds here: long enough to kill a node mid-run.
const contract: Contract = testContract("kill-restart", {
  priceRule: { kind: "gradient" },
  timeouts: { roundMs: ROUND_MS, announceMs: 300 },
});
const profiles = paperProfiles(5, 23);
const root = mkdtempSync(join(tmpdir(), "walras-kill-"));
const procs: NodeProcess[] = [];

afterAll(async () => {
  await Promise.allSettled(procs.map((p) => p.kill("SIGKILL")));
  rmSync(root, { recursive: true, force: true });
});

function storeRows(dataDir: string): { digests: string[]; certificates: Uint8Array[] } {
  const db = new DatabaseSync(join(dataDir, "walras.sqlite"), { readOnly: true });
  try {
    const digests = (db.prepare("SELECT digest FROM messages").all() as { digest: string }[]).map(
      (r) => r.digest,
    );
    const certificates = (
      db.prepare("SELECT bytes FROM certificates ORDER BY epoch").all() as { bytes: Uint8Array }[]
    ).map((r) => r.bytes);
    return { digests, certificates };
  } finally {
    db.close();
  }
}

function expectReference(status: NodeStatus, agents: { peerId: string; profile: AgentProfile }[]): void {
  const cert = status.certificate;
  if (!cert) throw new Error("no certificate");
  expect([...cert.members].sort()).toEqual(agents.map((a) => a.peerId).sort());
  const ref = solveReference(
    scenarioSchema.parse({ contract, agents: agents.map((a) => ({ id: a.peerId, ...a.profile })) }),
  );
  const p = ref.prices[0] as number;
  expect(p).toBeGreaterThan(0);
  expect(Math.abs((cert.prices.capacity as number) - p) / p).toBeLessThan(1e-5);
  for (const a of ref.allocations)
    expect(Math.abs((cert.allocations[a.agent] as number) - a.x)).toBeLessThan(1e-5);
}

async function certifiedWith(
  nodes: readonly NodeProcess[],
  members: readonly string[],
): Promise<NodeStatus[] | null> {
  const statuses = await Promise.all(nodes.map((n) => n.status()));
  const want = [...members].sort().join(",");
  const digest = statuses[0]?.certificate?.digest;
  const ok = statuses.every(
    (s) =>
      s.certificate !== null &&
      s.certificate.digest === digest &&
      [...s.certificate.members].sort().join(",") === want,
  );
  return ok ? statuses : null;
}

describe("SIGKILL and restart of one of five node processes", () => {
  it("four finish without it; restarted on its data dir it is the same peer, keeps its store and rejoins", async () => {
    const dataDirs = profiles.map((_, i) => join(root, `node-${i}`));
    for (const [i, profile] of profiles.entries()) {
      const bootstrap = procs[0] ? [procs[0].multiaddr] : [];
      procs.push(await spawnNode({ contract, profile, dataDir: dataDirs[i] as string, bootstrap }));
    }
    const agents = procs.map((p, i) => ({ peerId: p.peerId, profile: profiles[i] as AgentProfile }));

    // Mid-run: every node in epoch 0, a few rounds in, no certificate yet.
    await waitFor(
      async () => {
        const s = await Promise.all(procs.map((p) => p.status()));
        return s.every((x) => x.epoch === 0 && (x.round ?? 0) >= 5);
      },
      { timeoutMs: 60_000, what: "five processes a few rounds into epoch 0" },
    );
    const victim = procs[4] as NodeProcess;
    const before = await victim.status();
    expect(before.certificate).toBeNull();
    const killedAt = Date.now();
    await victim.kill("SIGKILL");

    const survivors = procs.slice(0, 4);
    // The timeout rule: a round silent for roundMs makes the rest propose an epoch without the
    // silent member; the new epoch starts once all four have proposed it.
    await waitFor(
      async () => (await Promise.all(survivors.map((p) => p.status()))).every((s) => s.members.length === 4),
      { timeoutMs: ROUND_MS * 3 + 30_000, what: "the survivors to start an epoch of four" },
    );
    const epochAt = Date.now();
    let four: NodeStatus[] | null = null;
    await waitFor(
      async () => {
        four = await certifiedWith(
          survivors,
          agents.slice(0, 4).map((a) => a.peerId),
        );
        return four !== null;
      },
      { timeoutMs: ROUND_MS * 3 + 60_000, what: "a four-member certificate on the survivors" },
    );
    const fourAt = Date.now();
    expectReference((four as unknown as NodeStatus[])[0] as NodeStatus, agents.slice(0, 4));
    const stored = storeRows(dataDirs[4] as string);
    expect(stored.digests.length).toBeGreaterThan(10);

    const revived = await spawnNode({
      contract,
      profile: profiles[4] as AgentProfile,
      dataDir: dataDirs[4] as string,
      bootstrap: [procs[0]?.multiaddr as string],
    });
    procs[4] = revived;
    expect(revived.peerId).toBe(victim.peerId);
    let five: NodeStatus[] | null = null;
    await waitFor(
      async () => {
        five = await certifiedWith(
          procs,
          agents.map((a) => a.peerId),
        );
        return five !== null;
      },
      { timeoutMs: 90_000, what: "a five-member certificate after the restart" },
    );
    const fiveAt = Date.now();
    const final = (five as unknown as NodeStatus[])[0] as NodeStatus;
    expectReference(final, agents);
    const after = storeRows(dataDirs[4] as string);
    expect(after.digests).toEqual(expect.arrayContaining(stored.digests));
    expect(after.digests.length).toBeGreaterThan(stored.digests.length);

    // Killed again once it holds the certificate: the certificate is on disk and verifies.
    await revived.kill("SIGKILL");
    const onDisk = storeRows(dataDirs[4] as string).certificates.map(
      (b) => JSON.parse(new TextDecoder().decode(b)) as Certificate,
    );
    // The certificate all five held is on disk. It need not be the latest: a slot that promotes
    // the rejoined member certifies in one round, and can do so between that poll and the kill.
    expect(onDisk.map(certificateDigest)).toContain(final.certificate?.digest);
    const latest = onDisk.at(-1) as Certificate;
    expect(verifyCertificate(latest, contract)).toMatchObject({ ok: true });
    expect(latest.commit.epoch).toBeGreaterThanOrEqual(final.certificate?.epoch ?? Number.POSITIVE_INFINITY);
    console.info(
      `kill/restart: killed at round ${before.round}; epoch of 4 started ${epochAt - killedAt} ms and certified ` +
        `${fourAt - killedAt} ms after the kill ` +
        `(round timeout ${ROUND_MS} ms); 5-member certificate ${fiveAt - fourAt} ms after the restart; ` +
        `victim store ${stored.digests.length} -> ${after.digests.length} messages`,
    );
  });
});
