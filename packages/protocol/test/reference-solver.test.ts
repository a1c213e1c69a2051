import { describe, expect, it } from "vitest";
import { activityCap, bestResponse } from "../src/economics/best-response.ts";
import { simulate } from "../src/economics/equilibrium.ts";
import { paperScenario } from "../src/economics/paper-scenario.ts";
import { solveReference, welfare, welfareOptimum } from "../src/economics/reference-solver.ts";
import { type Scenario, scenarioSchema } from "../src/economics/scenario.ts";
import { createPrng } from "../src/random/prng.ts";
import { checkEquilibrium } from "./equilibrium-check.ts";

function paper(n: number, m: number, g: number): Scenario {
  return scenarioSchema.parse(paperScenario({ agents: n, capacity: m, seed: 3, g }));
}

describe("solveReference", () => {
  it("one resource: the paper's closed form clears capacity at p*", () => {
    const s = paper(30, 20, 0);
    const ref = solveReference(s);
    expect(ref.status).toBe("exact");
    const p = ref.prices[0] as number;
    // Aggregate demand from the closed form max(0, alpha/(beta + tau + p) - 1), not from bestResponse.
    let total = 0;
    for (const a of s.agents) {
      if (a.valuation.kind !== "log" || a.cost.kind !== "linear")
        throw new Error("paper agents are log/linear");
      total += Math.max(0, a.valuation.alpha / (a.cost.beta + 0.5 + p) - 1);
    }
    expect(Math.abs(total - 20)).toBeLessThan(1e-9);
  });

  it("several resources: complementary slackness and best responses hold", () => {
    const s = scenarioSchema.parse({
      contract: {
        name: "three",
        resources: [
          { id: "cpu", capacity: 6 },
          { id: "mem", capacity: 9 },
          { id: "net", capacity: 100 },
        ],
        fees: { perUnit: 0.2, fixed: 0 },
      },
      agents: [
        {
          id: "a",
          valuation: { kind: "log", alpha: 12 },
          cost: { kind: "linear", beta: 1 },
          footprint: [1, 2, 0.1],
        },
        {
          id: "b",
          valuation: { kind: "power", w: 4, theta: 0.5 },
          cost: { kind: "quadratic", beta: 0.1, c: 0.2 },
          footprint: [0.5, 1, 0.1],
        },
        {
          id: "c",
          valuation: { kind: "quadratic", a: 9, b: 1 },
          cost: { kind: "linear", beta: 0.5 },
          footprint: [1, 0.3, 0.2],
        },
        {
          id: "d",
          valuation: { kind: "log", alpha: 6 },
          cost: { kind: "quadratic", beta: 0.2, c: 1 },
          footprint: [-1, 0.2, 0],
        },
      ],
    });
    const ref = solveReference(s);
    expect(ref.status).toBe("exact");
    s.contract.resources.forEach((res, r) => {
      const supply = s.agents.reduce(
        (acc, a) => acc + (a.footprint[r] as number) * bestResponse(a, s.contract, ref.prices).x,
        0,
      );
      expect(supply).toBeLessThanOrEqual(res.capacity * (1 + 1e-12));
      if ((ref.prices[r] as number) > 0)
        expect(Math.abs(supply - res.capacity)).toBeLessThan(1e-9 * res.capacity);
    });
    expect(ref.prices[2]).toBe(0);
  });
  it("a member at its activity cap at the first prices: the solver clears past it, as the newton rule does", () => {
    // A factory beside two households (a spread market, sim/schedule.ts drawSpread): at p = 0 the
    // factory wants 1,332 units of activity, its cap is 1,000 capacities / 500 = 4.
    const s = scenarioSchema.parse({
      contract: { name: "capped", resources: [{ id: "r", capacity: 2 }], fees: { perUnit: 0.5, fixed: 0 } },
      agents: [
        {
          id: "factory",
          valuation: { kind: "log", alpha: 2000 },
          cost: { kind: "linear", beta: 1 },
          footprint: [500],
        },
        {
          id: "h1",
          valuation: { kind: "log", alpha: 10 },
          cost: { kind: "linear", beta: 1 },
          footprint: [1],
        },
        {
          id: "h2",
          valuation: { kind: "log", alpha: 15 },
          cost: { kind: "linear", beta: 2 },
          footprint: [1],
        },
      ],
    });
    const factory = s.agents[0] as Scenario["agents"][number];
    const first = bestResponse(factory, s.contract, [0]);
    expect(first.x).toBe(activityCap(factory, s.contract));
    expect(first.exit?.price).toBe(2000 / 5 - 1);
    const ref = solveReference(s);
    expect(ref.status).toBe("exact");
    const p = ref.prices[0] as number;
    // The closed form max(0, alpha/(beta + tau + a p) - 1), weighted by the footprint, clears at p*.
    let total = 0;
    for (const a of s.agents)
      if (a.valuation.kind === "log" && a.cost.kind === "linear") {
        const f = a.footprint[0] as number;
        total += f * Math.max(0, a.valuation.alpha / (a.cost.beta + 0.5 + f * p) - 1);
      }
    expect(Math.abs(total - 2)).toBeLessThan(1e-9);
    expect(bestResponse(factory, s.contract, ref.prices).x).toBeLessThan(first.x);
    // The protocol's rule, which starts with the factory at its cap (its demand carries `exit`),
    // reaches the same equilibrium.
    checkEquilibrium(s, simulate(s));
  });
});

describe("welfareOptimum", () => {
  it("g = 0: no feasible perturbation of the optimum has higher welfare", () => {
    const s = paper(12, 10, 0);
    const opt = welfareOptimum(s);
    expect(opt.status).toBe("exact");
    const prng = createPrng(11);
    for (let t = 0; t < 200; t++) {
      // Move capacity between two agents: stays feasible (footprints are all 1).
      const i = Math.floor(prng() * 12);
      const j = Math.floor(prng() * 12);
      const d = (prng() - 0.5) * 0.2;
      const moved = opt.allocations.map((a, k) => ({ ...a, x: a.x + (k === i ? d : 0) - (k === j ? d : 0) }));
      if (moved.some((a) => a.x < 0)) continue;
      expect(welfare(s, moved)).toBeLessThanOrEqual(opt.welfare + 1e-12);
    }
  });

  it("g > 0: the exhaustive search is at least as good as the equilibrium and as the greedy search", () => {
    const s = paper(10, 12, 1);
    const exact = welfareOptimum(s);
    expect(exact.status).toBe("exact");
    const eq = solveReference(s);
    expect(exact.welfare).toBeGreaterThanOrEqual(welfare(s, eq.allocations) - 1e-9);
    // Same agents, more than EXACT_SEARCH_AGENTS of them by adding tiny ones, forces greedy.
    const big = scenarioSchema.parse({
      ...s,
      agents: [
        ...s.agents,
        ...[1, 2, 3].map((k) => ({
          id: `tiny${k}`,
          valuation: { kind: "log", alpha: 0.01 },
          cost: { kind: "linear", beta: 1 },
          footprint: [1],
        })),
      ],
    });
    const greedy = welfareOptimum(big);
    expect(greedy.status).toBe("approximate");
    expect(greedy.welfare).toBeLessThanOrEqual(exact.welfare + 1e-9);
  });
});
