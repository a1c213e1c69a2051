import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AgentProfile, scenarioSchema, solveReference } from "@walras/protocol";
import { type NodeProcess, paperProfiles, spawnNode, testContract, waitFor } from "@walras/test-support";
import { afterAll, describe, expect, it } from "vitest";

/**
 * Five nodes, each its own OS process, over TCP loopback: two resources and an energy supplier.
 * Every process must end with the same certificate, equal to the reference solver's equilibrium
 * of the five agents combined.
 */
const dir = mkdtempSync(join(tmpdir(), "walras-processes-"));
const procs: NodeProcess[] = [];

afterAll(async () => {
  await Promise.allSettled(procs.map((p) => p.kill("SIGTERM")));
  rmSync(dir, { recursive: true, force: true });
});

describe("5 node processes", () => {
  it("two resources with a supplier: one certificate everywhere, equal to the reference", async () => {
    const contract = testContract("processes", {
      resources: [
        { id: "cpu", capacity: 6 },
        { id: "energy", capacity: 2 },
      ],
      timeouts: { roundMs: 4000, announceMs: 300 },
    });
    const profiles: AgentProfile[] = [
      ...paperProfiles(4, 41).map((p, i) => ({ ...p, footprint: [1, 0.4 + 0.2 * i] })),
      {
        valuation: { kind: "log", alpha: 2 },
        cost: { kind: "quadratic", beta: 0.2, c: 1 },
        footprint: [0, -1],
      },
    ];
    for (const [i, profile] of profiles.entries()) {
      const bootstrap = procs[0] ? [procs[0].multiaddr] : [];
      procs.push(await spawnNode({ contract, profile, dataDir: join(dir, `n${i}`), bootstrap }));
    }
    const want = procs
      .map((p) => p.peerId)
      .sort()
      .join(",");
    await waitFor(
      async () => {
        const certs = (await Promise.all(procs.map((p) => p.status()))).map((s) => s.certificate);
        return certs.every(
          (c) => c !== null && [...c.members].sort().join(",") === want && c.digest === certs[0]?.digest,
        );
      },
      { timeoutMs: 90_000, intervalMs: 200, what: "one certificate on all five processes" },
    );
    const cert = (await procs[0]?.status())?.certificate;
    if (!cert) throw new Error("no certificate");
    const reference = solveReference(
      scenarioSchema.parse({ contract, agents: procs.map((p, i) => ({ id: p.peerId, ...profiles[i] })) }),
    );
    expect(Math.max(...reference.prices)).toBeGreaterThan(0);
    for (const [r, resource] of contract.resources.entries()) {
      const p = reference.prices[r] as number;
      expect(Math.abs((cert.prices[resource.id] as number) - p)).toBeLessThan(1e-6 * Math.max(1e-3, p));
    }
    for (const a of reference.allocations)
      expect(Math.abs((cert.allocations[a.agent] as number) - a.x)).toBeLessThan(1e-6 * Math.max(1, a.x));
  });
});
