import { devnetScenario } from "@walras/cli/devnet-scenario";
import { solveReference } from "@walras/protocol";
import { runCli } from "@walras/test-support";
import { describe, expect, it } from "vitest";

describe("walras devnet (real node processes)", () => {
  it("--nodes 3 runs to a certified equilibrium equal to the reference, stops every node, exits 0", async () => {
    const run = await runCli([
      "devnet",
      "--nodes",
      "3",
      "--base-port",
      "0",
      "--http-base-port",
      "0",
      "--json",
    ]);
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
    // Every node process is gone: its status API no longer answers.
    for (const n of result.nodes as { httpUrl: string }[])
      await expect(fetch(`${n.httpUrl}/status`, { signal: AbortSignal.timeout(2_000) })).rejects.toThrow();
  });
});
