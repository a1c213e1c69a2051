import { createServer } from "node:net";
import { devnetScenario } from "@walras/cli/devnet-scenario";
import { solveReference } from "@walras/protocol";
import { runCli } from "@walras/test-support";
import { describe, expect, it } from "vitest";

/** Three nodes on free ports, the result as JSON on stdout (progress on stderr). */
const devnet = (...more: string[]) =>
  runCli(["devnet", "--nodes", "3", "--base-port", "0", "--http-base-port", "0", ...more, "--json"]);

/**
 * Each node's certified allocation (x in the JSON) is the reference's for its agent: the devnet
 * labels its nodes by the scenario's agent ids, the ids the reference allocates to.
 */
function expectReferenceAllocations(
  nodes: readonly { label: string; x: number | null }[],
  ref: ReturnType<typeof solveReference>,
) {
  expect(nodes.map((n) => n.label).sort()).toEqual(ref.allocations.map((a) => a.agent as string).sort());
  for (const n of nodes) {
    const x = ref.allocations.find((a) => a.agent === n.label)?.x as number;
    expect(Math.abs((n.x ?? Number.NaN) - x) / Math.max(1, x)).toBeLessThan(1e-6);
  }
}

describe("walras devnet (real node processes)", () => {
  it("an --http-base-port in use: the first node exits at once and devnet says why, not after its 30 s start deadline", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const run = await runCli([
        "devnet",
        "--nodes",
        "2",
        "--base-port",
        "0",
        "--http-base-port",
        String(port),
      ]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain("a1: node exited (code 1) while starting");
      expect(run.stderr).toContain(`127.0.0.1:${port}: address in use`);
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });

  it("--nodes 3 runs to a certified equilibrium equal to the reference, stops every node, exits 0", async () => {
    const run = await devnet();
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain("\nPASS\n");
    expect(run.stderr).toContain("all nodes stopped");
    const result = JSON.parse(run.stdout);
    expect(result.pass).toBe(true);
    expect(result.nodes).toHaveLength(3);
    // The first node's dashboard, printed for people and in the JSON.
    expect(result.dashboard).toBe(`${result.nodes[0].httpUrl}/`);
    expect(run.stderr).toContain(`dashboard: ${result.dashboard}`);
    // The equilibrium price does not depend on the agents' ids: the scenario's own reference.
    const ref = solveReference(devnetScenario({ nodes: 3 }));
    expect(ref.prices[0]).toBeGreaterThan(0);
    expect(
      Math.abs(result.prices.capacity - (ref.prices[0] as number)) / (ref.prices[0] as number),
    ).toBeLessThan(1e-6);
    expectReferenceAllocations(result.nodes, ref);
    // Every node process is gone: its status API no longer answers.
    for (const n of result.nodes as { httpUrl: string }[])
      await expect(fetch(`${n.httpUrl}/status`, { signal: AbortSignal.timeout(2_000) })).rejects.toThrow();
  });

  it("--newton-model sums: the same market certified at the reference equilibrium under the sums model", async () => {
    const run = await devnet("--newton-model", "sums");
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain("newton (sums model) price rule");
    const result = JSON.parse(run.stdout);
    expect(result.pass).toBe(true);
    const ref = solveReference(devnetScenario({ nodes: 3 }));
    expect(
      Math.abs(result.prices.capacity - (ref.prices[0] as number)) / (ref.prices[0] as number),
    ).toBeLessThan(1e-6);
    expectReferenceAllocations(result.nodes, ref);
  });

  it("--rebid a2:log:alpha=30 shows each slot as it certifies, re-clears after a2's new bid, and checks the new bids against the reference", async () => {
    const run = await devnet("--rebid", "a2:log:alpha=30");
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.pass).toBe(true);
    expect(result.rebid).toMatchObject({ agent: "a2", valuation: { kind: "log", alpha: 30 } });
    // A line per certified slot, with why it opened: first the founding, last a2's new bid.
    expect(run.stderr).toMatch(
      /^epoch 0 certified \(found\) in \d+ rounds: price capacity [\d.]+; [23]\/3 members signed$/m,
    );
    expect(run.stderr).toMatch(
      /^a2 bids anew \(PUT http:\/\/127\.0\.0\.1:\d+\/agent\): valuation {2}log α=[\d.]+ → log α=30; takes effect at the next slot/m,
    );
    expect(run.stderr).toMatch(
      /^epoch \d+ certified \(rebid\) in \d+ rounds?: price capacity [\d.]+; [23]\/3 members signed$/m,
    );
    const slot = result.slots.at(-1);
    expect(slot).toMatchObject({ epoch: result.epoch, cause: ["rebid"] });
    expect(result.slots[0]).toMatchObject({ epoch: 0, cause: ["found"] });
    // The reference of the bids in force at the end (a2's new one), and it is not the old equilibrium.
    const scenario = devnetScenario({ nodes: 3 });
    const old = solveReference(scenario);
    const updated = structuredClone(scenario);
    (updated.agents[1] as { valuation: unknown }).valuation = { kind: "log", alpha: 30 };
    const ref = solveReference(updated);
    expect(ref.prices[0]).toBeGreaterThan((old.prices[0] as number) * 1.05);
    expect(
      Math.abs(result.prices.capacity - (ref.prices[0] as number)) / (ref.prices[0] as number),
    ).toBeLessThan(1e-6);
    for (const node of result.nodes as { label: string; x: number }[]) {
      const x = ref.allocations.find((a) => a.agent === node.label)?.x as number;
      expect(Math.abs(node.x - x)).toBeLessThan(1e-6 * Math.max(1, x));
    }
    console.info(
      `devnet --rebid: slot ${slot.epoch} re-cleared in ${slot.round + 1} rounds (warm start), ${result.timing.rebidToCertificateSeconds} s after the new bid`,
    );
  });
});
