import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scenarioSchema } from "@walras/protocol";
import { runCli } from "@walras/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "walras-cli-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("walras scenario paper", () => {
  it("writes a valid scenario with the requested agents, capacity and fees, the same for the same seed", async () => {
    const args = [
      "scenario",
      "paper",
      "--agents",
      "12",
      "--capacity",
      "40",
      "--seed",
      "7",
      "--tau",
      "1",
      "--g",
      "0",
    ];
    const run = await runCli(args);
    expect(run.code).toBe(0);
    const parsed = scenarioSchema.safeParse(JSON.parse(run.stdout));
    expect(parsed.success).toBe(true);
    if (!parsed.success) return;
    const s = parsed.data;
    expect(s.agents).toHaveLength(12);
    expect(s.contract.resources).toEqual([{ id: "capacity", capacity: 40 }]);
    expect(s.contract.fees).toEqual({ perUnit: 1, fixed: 0 });
    for (const a of s.agents) {
      if (a.valuation.kind !== "log" || a.cost.kind !== "linear") throw new Error("not a paper agent");
      expect(a.valuation.alpha).toBeGreaterThanOrEqual(5);
      expect(a.valuation.alpha).toBeLessThan(20);
      expect(a.cost.beta).toBeGreaterThanOrEqual(0.5);
      expect(a.cost.beta).toBeLessThan(5);
    }
    expect((await runCli(args)).stdout).toBe(run.stdout);
    const otherSeed = args.map((a) => (a === "7" ? "8" : a));
    expect((await runCli(otherSeed)).stdout).not.toBe(run.stdout);
  });

  it("writes to --out, and its output feeds simulate through stdin", async () => {
    const out = join(dir, "s.json");
    const run = await runCli(["scenario", "paper", "--agents", "30", "--capacity", "20", "--out", out]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe("");
    const text = await readFile(out, "utf8");
    const sim = await runCli(["simulate", "-", "--json"], { input: text });
    expect(sim.code).toBe(0);
    expect(JSON.parse(sim.stdout).source).toBe("<stdin>");
  });

  it("rejects a bad number with exit code 2 and one line naming the option", async () => {
    const run = await runCli(["scenario", "paper", "--agents", "0"]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toMatch(/--agents/);
  });
});

describe("walras experiment paper", () => {
  it("prints every mechanism and fee as JSON and writes the CSV", async () => {
    const csv = join(dir, "e.csv");
    const run = await runCli([
      "experiment",
      "paper",
      "--replications",
      "4",
      "--agents",
      "30",
      "--capacity",
      "30",
      "--json",
      "--csv",
      csv,
    ]);
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out.options.replications).toBe(4);
    expect(out.mechanisms.map((m: { mechanism: string }) => m.mechanism)).toEqual([
      "fcfs",
      "proportional",
      "flat",
      "contract",
    ]);
    expect(out.feeSweep.map((f: { tau: number }) => f.tau)).toEqual([0, 0.5, 1, 1.5, 2]);
    const lines = (await readFile(csv, "utf8")).trim().split("\n");
    expect(lines[0]).toBe("section,label,metric,mean,sd");
    const contractEfficiency = lines.find((l) => l.startsWith("mechanism,contract,efficiency,"));
    expect(Number(contractEfficiency?.split(",")[3])).toBeCloseTo(
      out.mechanisms.find((m: { mechanism: string }) => m.mechanism === "contract").efficiency.mean,
      9,
    );
  });

  it("prints the two tables by default", async () => {
    const run = await runCli(["experiment", "paper", "--replications", "3"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/proposed contract/);
    expect(run.stdout).toMatch(/fee sweep/);
  });

  it("needs at least two replications", async () => {
    const run = await runCli(["experiment", "paper", "--replications", "1"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--replications.*>= 2/);
  });
});
