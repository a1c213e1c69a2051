import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { shockSchedule, solveReference } from "@walras/protocol";
import { runCli } from "@walras/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "walras-dynamics-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const small = ["--slots", "8", "--agents", "20", "--capacity", "30", "--seed", "4"];

describe("walras experiment dynamics", () => {
  it("prints every slot as JSON with the reference solver's prices, and draws the SVG", async () => {
    const svg = join(dir, "fee.svg");
    const run = await runCli([
      "experiment",
      "dynamics",
      "--shock",
      "fee",
      ...small,
      "--at",
      "3",
      "--shock-tau",
      "2",
      "--g",
      "0",
      "--json",
      "--svg",
      svg,
    ]);
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out.options).toMatchObject({ shock: "fee", slots: 8, agents: 20, at: 3, shockTau: 2, g: 0 });
    expect(out.slots.map((s: { terms: { perUnit: number } }) => s.terms.perUnit)).toEqual([
      0.5, 0.5, 0.5, 2, 2, 2, 2, 2,
    ]);
    // Checked against the reference solver run here, on the same slots, not against the command's own figures.
    const markets = shockSchedule({
      shock: "fee",
      slots: 8,
      agents: 20,
      capacity: 30,
      seed: 4,
      at: 3,
      shockTau: 2,
      g: 0,
    });
    markets.forEach((m, i) => {
      const p = out.slots[i].prices[0];
      const q = solveReference(m.scenario).prices[0] ?? Number.NaN;
      expect(Math.abs(p - q)).toBeLessThan(1e-6 * Math.max(1, q));
    });
    expect(out.quiet.warm.mean).toBeLessThan(out.quiet.cold.mean);

    const drawing = await readFile(svg, "utf8");
    expect(drawing.startsWith("<svg")).toBe(true);
    expect(drawing.trimEnd().endsWith("</svg>")).toBe(true);
    for (const title of ["Price p*", "Welfare", "Agents present", "Rounds to clear"])
      expect(drawing).toContain(title);
    // The reference price of each slot is one open circle in the price panel, the optimum one in the welfare panel.
    expect(drawing.match(/<circle [^>]*r="3.5" fill="none" stroke="#e07b00"/g)?.length).toBe(2 * 8 + 2);
  });

  it("prints the summary and one row per slot as text; churn shows arrivals and departures", async () => {
    const run = await runCli(["experiment", "dynamics", "--shock", "churn", ...small, "--churn", "0.3"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^dynamics: churn, each member leaves with probability 0.3/);
    expect(run.stdout).toMatch(/rounds per slot, quiet .*: none/);
    const lines = run.stdout.split("\n");
    const rows = lines
      .slice(lines.findIndex((l) => l.startsWith("----")) + 1)
      .filter((l) => /^\d+\s/.test(l));
    expect(rows.map((r) => Number(r.split(/\s+/)[0]))).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(rows.slice(1).some((r) => /\(\+\d+ -[1-9]\d*\)/.test(r))).toBe(true);
    expect(
      (await runCli(["experiment", "dynamics", "--shock", "churn", ...small, "--churn", "0.3"])).stdout,
    ).toBe(run.stdout);
  });

  it.each([
    [["--shock", "wind"], /--shock/],
    [[], /--shock/],
    [["--shock", "fee", "--slots", "8", "--at", "9"], /--at must be an integer in \[1, 7\]/],
    [["--shock", "capacity", "--slots", "8", "--at", "3", "--until", "2"], /--until must/],
    [["--shock", "churn", "--churn", "1"], /--churn/],
    [["--shock", "fee", "--drift", "-0.1"], /--drift/],
  ])("rejects %j with exit code 2 and one line naming the option", async (args, pattern) => {
    const run = await runCli(["experiment", "dynamics", ...args]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toMatch(pattern);
    expect(run.stdout).toBe("");
  });
});
