import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bestResponse } from "../src/economics/best-response.ts";
import { simulate } from "../src/economics/equilibrium.ts";
import { paperScenario } from "../src/economics/paper-scenario.ts";
import { solveReference } from "../src/economics/reference-solver.ts";
import { type Scenario, scenarioSchema } from "../src/economics/scenario.ts";
import type { NewtonModel } from "../src/wire/contract.ts";
import { checkEquilibrium } from "./equilibrium-check.ts";
import { marketArb } from "./market-arbitrary.ts";

function paperMarket(agents: number, seed: number, model: NewtonModel): Scenario {
  const input = paperScenario({ agents, capacity: Math.round(agents * 1.5), seed, g: 0 });
  return scenarioSchema.parse({
    ...input,
    contract: { ...input.contract, priceRule: { kind: "newton", model } },
  });
}

describe("the newton rule's curve model (economics/curve-model.ts)", () => {
  it("clears the paper's markets (log valuations, linear costs) in 3 rounds, where the hinge model takes 6-7, at the reference solver's prices", () => {
    for (const agents of [10, 50, 200])
      for (const seed of [1, 2, 3]) {
        const curves = paperMarket(agents, seed, "curves");
        const result = simulate(curves);
        const reference = solveReference(curves);
        expect(result.status).toBe("converged");
        expect(result.rounds).toBe(3);
        expect(result.prices[0]).toBeCloseTo(reference.prices[0] as number, 9);
        checkEquilibrium(curves, result);
        expect(simulate(paperMarket(agents, seed, "hinges")).rounds).toBeGreaterThanOrEqual(6);
      }
  });

  it("fits a log-valuation member's demand exactly from two observations: round 2 lands on the clearing price", () => {
    // Every member's demand is alpha/(beta + tau + p) - 1 while positive: a hyperbola in the unit
    // price. Round 2's residual is the reference solver's, to rounding: the model was exact.
    const curves = paperMarket(40, 7, "curves");
    const path = simulate(curves, { recordPath: true }).path ?? [];
    expect(path.length).toBe(3);
    expect(path[2]?.residual).toBeLessThan(1e-12);
    expect(path[1]?.residual).toBeGreaterThan(1e-2);
  });

  it("random markets (suppliers, kinks, 1-4 resources): the reference solver's equilibrium, and no more rounds in all than the hinge model", () => {
    for (const resources of [1, 2, 3]) {
      const markets = fc.sample(marketArb({ resources, kinkAgents: 3 }), {
        seed: 20261204 + resources,
        numRuns: 150,
      });
      let hinges = 0;
      let curves = 0;
      for (const m of markets) {
        const withCurves = scenarioSchema.parse({
          ...m,
          contract: { ...m.contract, priceRule: { kind: "newton", model: "curves" } },
        });
        const result = simulate(withCurves);
        checkEquilibrium(withCurves, result);
        curves += result.rounds;
        hinges += simulate(m, { rule: { kind: "newton" } }).rounds;
      }
      expect(curves).toBeLessThan(hinges);
    }
  });

  it("leaves a linear demand (quadratic valuation) on its line: the same prices as the hinge model, bit for bit", () => {
    const input = paperScenario({ agents: 12, capacity: 10, seed: 3, g: 0 });
    const agents = input.agents.map((a, i) => ({
      ...a,
      valuation: { kind: "quadratic" as const, a: 8 + i, b: 1 + i / 10 },
    }));
    const prices = (model: NewtonModel) =>
      simulate(
        scenarioSchema.parse({
          contract: { ...input.contract, priceRule: { kind: "newton", model } },
          agents,
        }),
        {
          recordPath: true,
        },
      ).path?.map((p) => p.prices);
    expect(prices("curves")).toEqual(prices("hinges"));
  });

  it("a proximal contract keeps the hinge model's steps: its demands follow each member's last one, not a curve", () => {
    const proximal = (model: NewtonModel) => {
      const m = paperMarket(30, 4, model);
      return scenarioSchema.parse({ ...m, contract: { ...m.contract, proximal: 0.5 } });
    };
    const path = (model: NewtonModel) =>
      simulate(proximal(model), { recordPath: true }).path?.map((p) => p.prices);
    expect(path("curves")).toEqual(path("hinges"));
  });

  it("a member's demand really is a hyperbola in its unit price (why the fit is exact)", () => {
    const { agents } = paperScenario({ agents: 1, capacity: 1, seed: 5, g: 0 });
    const profile = agents[0];
    if (!profile) throw new Error("no agent");
    const terms = scenarioSchema.parse(paperMarket(1, 5, "curves")).contract;
    const x = (p: number) => bestResponse(profile, terms, [p]).x;
    const slope = (p: number) => bestResponse(profile, terms, [p]).slope;
    // Fitted at p = 0.2 (demand and slope) and p = 0.5 (demand), it predicts p = 1.1.
    const [qb, qo, q] = [0.2, 0.5, 1.1];
    const s = slope(qb);
    const w = (-(x(qo) - x(qb)) * (qo - qb)) / (x(qo) - x(qb) - s * (qo - qb));
    const u = q - qb;
    expect(x(qb) + (s * w * u) / (w + u)).toBeCloseTo(x(q), 10);
  });
});
