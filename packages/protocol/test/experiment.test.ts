import { describe, expect, it } from "vitest";
import { allocateContract } from "../src/economics/baselines/contract.ts";
import { allocateFcfs } from "../src/economics/baselines/fcfs.ts";
import { allocateFlatPrice } from "../src/economics/baselines/flat.ts";
import { allocateProportional } from "../src/economics/baselines/proportional.ts";
import { runPaperExperiment, summarise } from "../src/economics/experiment.ts";
import { computeMetrics } from "../src/economics/metrics.ts";
import { paperScenario } from "../src/economics/paper-scenario.ts";
import { scenarioSchema } from "../src/economics/scenario.ts";

describe("summarise", () => {
  it("gives the mean and the sample standard deviation", () => {
    // mean 5; squared deviations 9+1+1+9 = 20; 20/3.
    const s = summarise([2, 4, 6, 8]);
    expect(s.mean).toBeCloseTo(5, 12);
    expect(s.sd).toBeCloseTo(Math.sqrt(20 / 3), 12);
  });
});

describe("mechanisms against the welfare optimum", () => {
  it("with g = 0 the contract reaches the optimum and no baseline beats it (first welfare theorem)", () => {
    for (let seed = 1; seed <= 15; seed++) {
      const scenario = scenarioSchema.parse(
        paperScenario({ agents: 40, capacity: 60, seed, tau: 0.5, g: 0 }),
      );
      const outcomes = [
        allocateContract(scenario),
        allocateFcfs(scenario, seed),
        allocateProportional(scenario),
        allocateFlatPrice(scenario, [0.5]),
      ];
      const [contract, ...baselines] = outcomes.map((o) => computeMetrics(scenario, o));
      expect(contract?.relativeWelfareGap).toBeLessThan(1e-6);
      expect(contract?.relativeWelfareGap).toBeGreaterThan(-1e-6);
      expect(contract?.envy).toBe(0);
      for (const m of baselines) expect(m.relativeWelfareGap).toBeGreaterThan(-1e-9);
    }
  });
});

describe("runPaperExperiment", () => {
  const small = { replications: 8, seed: 5, agents: 30, capacity: 40 };

  it("is a function of its seed", () => {
    expect(runPaperExperiment(small)).toEqual(runPaperExperiment(small));
    expect(runPaperExperiment(small).mechanisms).not.toEqual(
      runPaperExperiment({ ...small, seed: 6 }).mechanisms,
    );
  });

  it("reports the four mechanisms and one sweep row per fee", () => {
    const r = runPaperExperiment({ ...small, fees: [0, 1] });
    expect(r.mechanisms.map((m) => m.mechanism)).toEqual(["fcfs", "proportional", "flat", "contract"]);
    expect(r.feeSweep.map((f) => f.tau)).toEqual([0, 1]);
    for (const m of r.mechanisms) {
      expect(m.gini.mean).toBeGreaterThanOrEqual(0);
      expect(m.gini.mean).toBeLessThan(1);
      expect(m.efficiencyPerAgent.mean).toBeCloseTo(m.efficiency.mean / small.agents, 9);
    }
  });

  it("gives every mechanism the same outcome when capacity never binds", () => {
    // With a capacity nobody reaches, every mechanism gives each agent its zero-price best response.
    const r = runPaperExperiment({ replications: 3, seed: 9, agents: 5, capacity: 1e6, fees: [0.5] });
    const efficiencies = r.mechanisms.map((m) => m.efficiency.mean);
    for (const e of efficiencies) expect(e).toBeCloseTo(efficiencies[0] ?? Number.NaN, 9);
    expect(r.binding).toBe(0);
    expect(r.feeSweep[0]?.efficiency.mean).toBeCloseTo(efficiencies[0] ?? Number.NaN, 9);
  });

  it("rejects fewer than two replications", () => {
    expect(() => runPaperExperiment({ replications: 1 })).toThrow(RangeError);
  });
});
