import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { paperScenario, scenarioSchema, solveReference } from "@walras/protocol";
import { runCli } from "@walras/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "walras-simulate-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeScenario(name: string, value: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof value === "string" ? value : JSON.stringify(value));
  return path;
}

describe("walras simulate --json", () => {
  it("reports the equilibrium the reference solver finds, and metrics recomputed here agree", async () => {
    // 60 agents on capacity 50 with g = 0: capacity binds and an exact clearing price exists.
    const input = paperScenario({ agents: 60, capacity: 50, seed: 11, tau: 0.5, g: 0 });
    const path = await writeScenario("binding.json", input);
    const run = await runCli(["simulate", path, "--json"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout);

    const reference = solveReference(scenarioSchema.parse(input));
    expect(out.status).toBe("converged");
    expect(out.rounds).toBeGreaterThan(0);
    const p = reference.prices[0] ?? Number.NaN;
    expect(p).toBeGreaterThan(0);
    expect(Math.abs(out.prices.capacity - p) / p).toBeLessThan(1e-6);
    for (const { agent, x } of reference.allocations)
      expect(Math.abs(out.allocations[agent] - x)).toBeLessThan(1e-6);
    expect(Object.keys(out.allocations)).toHaveLength(60);

    const xs: number[] = Object.values(out.allocations);
    const n = xs.length;
    const sum = xs.reduce((s, x) => s + x, 0);
    let pairs = 0;
    for (const a of xs) for (const b of xs) pairs += Math.abs(a - b);
    expect(out.metrics.gini).toBeCloseTo(pairs / (2 * n * sum), 9);
    expect(out.metrics.jain).toBeCloseTo((sum * sum) / (n * xs.reduce((s, x) => s + x * x, 0)), 9);
    expect(out.metrics.participation).toBeCloseTo(xs.filter((x) => x > 0).length / n, 12);
    expect(Math.abs(sum - 50) / 50).toBeLessThan(1e-6);
    expect(out.metrics.residual).toBeLessThan(1e-6);
    // g = 0: the equilibrium is the welfare optimum.
    expect(Math.abs(out.metrics.relativeWelfareGap)).toBeLessThan(1e-6);
    expect(out.reference.maxRelativeDifference.prices).toBeLessThan(1e-6);
  });

  it("takes --rule gradient and still reaches the reference prices", async () => {
    const input = paperScenario({ agents: 30, capacity: 30, seed: 4, tau: 0.5, g: 0 });
    const path = await writeScenario("gradient.json", input);
    const run = await runCli(["simulate", path, "--rule", "gradient", "--json"]);
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out.rule).toBe("gradient");
    const p = solveReference(scenarioSchema.parse(input)).prices[0] ?? Number.NaN;
    expect(Math.abs(out.prices.capacity - p) / p).toBeLessThan(1e-4);
  });
});

describe("walras simulate --newton-model", () => {
  it("sums: reaches the reference prices and says which model it ran; refused with the gradient rule", async () => {
    const input = paperScenario({ agents: 40, capacity: 30, seed: 9, tau: 0.5, g: 0 });
    const path = await writeScenario("sums.json", input);
    const run = await runCli(["simulate", path, "--newton-model", "sums", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out.rule).toBe("newton");
    expect(out.newtonModel).toBe("sums");
    expect(out.status).toBe("converged");
    const p = solveReference(scenarioSchema.parse(input)).prices[0] ?? Number.NaN;
    expect(Math.abs(out.prices.capacity - p) / p).toBeLessThan(1e-6);
    const text = await runCli(["simulate", path, "--newton-model", "sums"]);
    expect(text.stdout).toMatch(/\(newton rule, sums model\)/);
    const bad = await runCli(["simulate", path, "--rule", "gradient", "--newton-model", "sums"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe("simulate: --newton-model applies to --rule newton only");
  });
});

describe("walras simulate (report)", () => {
  it("prints the status, each resource's price and every agent", async () => {
    const input = paperScenario({ agents: 8, capacity: 5, seed: 2, g: 0 });
    const path = await writeScenario("report.json", input);
    const run = await runCli(["simulate", path]);
    expect(run.code).toBe(0);
    const p = solveReference(scenarioSchema.parse(input)).prices[0] ?? Number.NaN;
    expect(run.stdout).toMatch(/converged after \d+ rounds? \(newton rule\)/);
    const priceLine = run.stdout.split("\n").find((l) => l.startsWith("capacity "));
    expect(Number(priceLine?.trim().split(/\s+/)[1])).toBeCloseTo(p, 4);
    for (let i = 1; i <= 8; i++) expect(run.stdout).toMatch(new RegExp(`^a${i} `, "m"));
  });

  it("exits 1 when the price rule does not converge within the round limit", async () => {
    const path = await writeScenario("slow.json", paperScenario({ agents: 30, capacity: 10, seed: 1, g: 0 }));
    const run = await runCli(["simulate", path, "--max-rounds", "1"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/did not converge/);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
  });
});

describe("walras simulate with bad input", () => {
  async function expectUsageError(args: string[], line: RegExp): Promise<void> {
    const run = await runCli(args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    const lines = run.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(line);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  }

  it("names the file and field of an invalid value", async () => {
    const input = paperScenario({ agents: 5, capacity: 10, seed: 1 });
    const bad = {
      ...input,
      agents: input.agents.map((a, i) => (i === 3 ? { ...a, valuation: { kind: "log", alpha: -1 } } : a)),
    };
    const path = await writeScenario("bad-field.json", bad);
    await expectUsageError(
      ["simulate", path],
      /^.*bad-field\.json: agents\[3\]\.valuation\.alpha: must be at least 1e-12$/,
    );
  });

  it("says when the file is not JSON", async () => {
    const path = await writeScenario("broken.json", '{"contract": ');
    await expectUsageError(["simulate", path], /^.*broken\.json: not valid JSON: /);
  });

  it("says when the file does not exist", async () => {
    await expectUsageError(["simulate", join(dir, "missing.json")], /^.*missing\.json: no such file$/);
  });

  it("rejects an unknown flag and a bad rule", async () => {
    const path = await writeScenario("ok.json", paperScenario({ agents: 3, capacity: 10, seed: 1 }));
    await expectUsageError(["simulate", path, "--frobnicate"], /unknown option '--frobnicate'/);
    await expectUsageError(["simulate", path, "--rule", "magic"], /--rule.*magic/);
  });

  it("prints the stack trace only with --verbose", async () => {
    const run = await runCli(["--verbose", "simulate", join(dir, "missing.json")]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/missing\.json: no such file/);
    expect(run.stderr).toMatch(/\n\s+at /);
  });
});
