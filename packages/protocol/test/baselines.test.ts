import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allocateFcfs } from "../src/economics/baselines/fcfs.ts";
import { allocateFlatPrice, postedPriceFor } from "../src/economics/baselines/flat.ts";
import { allocateProportional } from "../src/economics/baselines/proportional.ts";
import { paperExpectedSupply, paperScenario } from "../src/economics/paper-scenario.ts";
import { type Scenario, scenarioSchema } from "../src/economics/scenario.ts";
import { createPrng, uniform } from "../src/random/prng.ts";

/** The closed form of a log/linear agent's demand at unit price q, fixed fee g (independent of best-response.ts). */
function logLinearDemand(alpha: number, beta: number, q: number, g: number): number {
  const x = alpha / (beta + q) - 1;
  if (x <= 0) return 0;
  const gain = alpha * Math.log1p(x) - (beta + q) * x;
  return gain >= g ? x : 0;
}

function paper(agents: number, capacity: number, seed: number, tau = 0.5, g = 1): Scenario {
  return scenarioSchema.parse(paperScenario({ agents, capacity, seed, tau, g }));
}

function params(scenario: Scenario, id: string): { alpha: number; beta: number } {
  const a = scenario.agents.find((x) => x.id === id);
  if (a?.valuation.kind !== "log" || a.cost.kind !== "linear") throw new Error("not a paper agent");
  return { alpha: a.valuation.alpha, beta: a.cost.beta };
}

const configs = fc.record({
  agents: fc.integer({ min: 1, max: 60 }),
  capacity: fc.double({ min: 1, max: 200, noNaN: true }),
  seed: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  tau: fc.double({ min: 0, max: 2, noNaN: true }),
  g: fc.double({ min: 0, max: 2, noNaN: true }),
});

const total = (xs: readonly { x: number }[]) => xs.reduce((s, a) => s + a.x, 0);

describe("baselines respect capacity and give everyone an allocation", () => {
  it("fcfs, proportional and flat never over-use the resource", () => {
    fc.assert(
      fc.property(configs, fc.double({ min: 0, max: 5, noNaN: true }), (c, price) => {
        const s = paper(c.agents, c.capacity, c.seed, c.tau, c.g);
        for (const outcome of [
          allocateFcfs(s, c.seed),
          allocateProportional(s),
          allocateFlatPrice(s, [price]),
        ]) {
          expect(outcome.allocations.map((a) => a.agent).sort()).toEqual(s.agents.map((a) => a.id).sort());
          for (const a of outcome.allocations) expect(a.x).toBeGreaterThanOrEqual(0);
          expect(total(outcome.allocations)).toBeLessThanOrEqual(c.capacity * (1 + 1e-12));
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe("allocateFcfs", () => {
  it("serves whole demands, then at most one agent partly, then nobody; a partial share is worth its fee", () => {
    fc.assert(
      fc.property(configs, (c) => {
        const s = paper(c.agents, c.capacity, c.seed, c.tau, c.g);
        const outcome = allocateFcfs(s, c.seed);
        let partial = 0;
        for (const { agent, x } of outcome.allocations) {
          const { alpha, beta } = params(s, agent);
          const wanted = logLinearDemand(alpha, beta, c.tau, c.g);
          expect(x).toBeLessThanOrEqual(wanted * (1 + 1e-12));
          if (x > 0 && x < wanted * (1 - 1e-12)) {
            partial++;
            expect(alpha * Math.log1p(x) - (beta + c.tau) * x - c.g).toBeGreaterThanOrEqual(-1e-9);
          }
        }
        expect(partial).toBeLessThanOrEqual(1);
        // An agent served less than it wanted found less than that left: capacity was all but used.
        const used = total(outcome.allocations);
        for (const { agent, x } of outcome.allocations) {
          const { alpha, beta } = params(s, agent);
          const wanted = logLinearDemand(alpha, beta, c.tau, c.g);
          if (x < wanted * (1 - 1e-12)) expect(used).toBeGreaterThan(c.capacity - wanted - 1e-9);
        }
      }),
      { numRuns: 200 },
    );
  });

  it("depends on the arrival seed only when capacity binds", () => {
    const loose = paper(5, 1000, 3);
    expect(allocateFcfs(loose, 1).allocations).toEqual(allocateFcfs(loose, 2).allocations);
    const tight = paper(30, 20, 3);
    expect(allocateFcfs(tight, 1).allocations).not.toEqual(allocateFcfs(tight, 2).allocations);
  });
});

describe("allocateProportional", () => {
  it("gives zero-price demands when they fit, else the same fraction of each that fills capacity", () => {
    fc.assert(
      fc.property(configs, (c) => {
        const s = paper(c.agents, c.capacity, c.seed, c.tau, c.g);
        const wanted = new Map(
          s.agents.map((a) => {
            const { alpha, beta } = params(s, a.id);
            return [a.id, logLinearDemand(alpha, beta, c.tau, c.g)] as const;
          }),
        );
        const demand = [...wanted.values()].reduce((x, y) => x + y, 0);
        const factor = demand > c.capacity ? c.capacity / demand : 1;
        const outcome = allocateProportional(s);
        for (const { agent, x } of outcome.allocations)
          expect(x).toBeCloseTo((wanted.get(agent) ?? 0) * factor, 9);
        expect(outcome.prices).toEqual([0]);
      }),
      { numRuns: 200 },
    );
  });
});

describe("allocateFlatPrice", () => {
  it("gives each agent its demand at the posted price when that fits", () => {
    const s = paper(10, 1000, 4);
    const outcome = allocateFlatPrice(s, [0.7]);
    for (const { agent, x } of outcome.allocations) {
      const { alpha, beta } = params(s, agent);
      expect(x).toBeCloseTo(logLinearDemand(alpha, beta, 0.5 + 0.7, 1), 12);
    }
    expect(outcome.prices).toEqual([0.7]);
  });
});

describe("postedPriceFor", () => {
  it("finds the price where a known supply curve meets capacity, and 0 when it already fits", () => {
    expect(postedPriceFor((p) => 100 / (1 + p), 50)).toBeCloseTo(1, 8);
    expect(postedPriceFor((p) => 40 / (1 + p), 50)).toBe(0);
  });

  it("paperExpectedSupply agrees with a Monte Carlo average over drawn economies", () => {
    const prng = createPrng(2024);
    const draws = 40_000;
    for (const price of [0, 1]) {
      let sum = 0;
      for (let i = 0; i < draws; i++)
        sum += logLinearDemand(uniform(prng, 5, 20), uniform(prng, 0.5, 5), 0.5 + price, 1);
      const monteCarlo = (20 * sum) / draws;
      expect(paperExpectedSupply({ agents: 20, tau: 0.5, g: 1 }, price)).toBeCloseTo(monteCarlo, 0);
      expect(
        Math.abs(paperExpectedSupply({ agents: 20, tau: 0.5, g: 1 }, price) / monteCarlo - 1),
      ).toBeLessThan(0.02);
    }
  });
});
