import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { computeMetrics, gini, jainIndex } from "../src/economics/metrics.ts";
import { type Scenario, scenarioSchema } from "../src/economics/scenario.ts";

// Zero (an agent out) or a level from 1e-3 to 1e3: subnormal levels would only test float underflow.
const level = fc.oneof(fc.constant(0), fc.double({ min: 1e-3, max: 1e3, noNaN: true }));
const shares = fc.array(level, { minLength: 1, maxLength: 40 });
const positiveShares = shares.filter((xs) => xs.some((x) => x > 0));

/** The textbook definition, O(n^2): mean absolute difference over twice the mean. */
function pairwiseGini(xs: readonly number[]): number {
  const n = xs.length;
  const mean = xs.reduce((s, x) => s + x, 0) / n;
  let diff = 0;
  for (const a of xs) for (const b of xs) diff += Math.abs(a - b);
  return diff / (2 * n * n * mean);
}

describe("gini", () => {
  it("is 0 for equal shares and 1 - 1/n when one agent has everything", () => {
    expect(gini([3, 3, 3, 3])).toBeCloseTo(0, 12);
    expect(gini([0, 0, 7, 0, 0])).toBeCloseTo(1 - 1 / 5, 12);
    expect(gini([1, 3])).toBeCloseTo(0.25, 12); // |1-3|*2 / (2*4*2)
  });

  it("is 0 when nobody is active", () => {
    expect(gini([0, 0, 0])).toBe(0);
  });

  it("matches the pairwise definition and lies in [0, 1 - 1/n]", () => {
    fc.assert(
      fc.property(positiveShares, (xs) => {
        const g = gini(xs);
        expect(g).toBeCloseTo(pairwiseGini(xs), 9);
        expect(g).toBeGreaterThanOrEqual(0);
        expect(g).toBeLessThanOrEqual(1 - 1 / xs.length + 1e-12);
      }),
    );
  });

  it("does not change when every share is scaled", () => {
    fc.assert(
      fc.property(positiveShares, fc.double({ min: 0.01, max: 100, noNaN: true }), (xs, k) => {
        expect(gini(xs.map((x) => x * k))).toBeCloseTo(gini(xs), 9);
      }),
    );
  });
});

describe("jainIndex", () => {
  it("is 1 for equal shares and 1/n for one-hot", () => {
    expect(jainIndex([2, 2, 2])).toBeCloseTo(1, 12);
    expect(jainIndex([0, 5, 0, 0])).toBeCloseTo(1 / 4, 12);
  });

  it("equals 1 / (1 + CV^2) and lies in [1/n, 1]", () => {
    fc.assert(
      fc.property(positiveShares, (xs) => {
        const n = xs.length;
        const mean = xs.reduce((s, x) => s + x, 0) / n;
        const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / n;
        const j = jainIndex(xs);
        expect(j).toBeCloseTo(1 / (1 + variance / (mean * mean)), 9);
        expect(j).toBeGreaterThanOrEqual(1 / n - 1e-12);
        expect(j).toBeLessThanOrEqual(1 + 1e-12);
      }),
    );
  });
});

/** Two identical log/linear agents and a third that supplies nothing it uses: small enough to do by hand. */
function smallScenario(tau: number, g: number): Scenario {
  return scenarioSchema.parse({
    contract: {
      name: "hand",
      resources: [{ id: "capacity", capacity: 10 }],
      fees: { perUnit: tau, fixed: g },
    },
    agents: [
      { id: "a", valuation: { kind: "log", alpha: 10 }, cost: { kind: "linear", beta: 1 }, footprint: [1] },
      { id: "b", valuation: { kind: "log", alpha: 10 }, cost: { kind: "linear", beta: 1 }, footprint: [1] },
      { id: "c", valuation: { kind: "log", alpha: 4 }, cost: { kind: "linear", beta: 2 }, footprint: [1] },
    ],
  });
}

describe("computeMetrics", () => {
  it("computes efficiency, participation, supply and residual by their definitions", () => {
    const scenario = smallScenario(0.5, 1);
    const m = computeMetrics(
      scenario,
      {
        prices: [0],
        allocations: [
          { agent: "b", x: 5 },
          { agent: "a", x: 2 },
          { agent: "c", x: 0 },
        ],
      },
      { optimum: 30 },
    );
    // a: 10 ln 3 - 1*2 - 0.5*2 - 1; b: 10 ln 6 - 5 - 2.5 - 1; c is out and pays nothing.
    const eff = 10 * Math.log(3) - 2 - 1 - 1 + (10 * Math.log(6) - 5 - 2.5 - 1);
    expect(m.efficiency).toBeCloseTo(eff, 12);
    expect(m.welfareGap).toBeCloseTo(30 - eff, 12);
    expect(m.relativeWelfareGap).toBeCloseTo((30 - eff) / 30, 12);
    expect(m.participation).toBeCloseTo(2 / 3, 12);
    expect(m.supply).toEqual([7]);
    expect(m.residual).toBe(0); // spare capacity at a zero price
    expect(m.gini).toBeCloseTo(pairwiseGini([2, 5, 0]), 12);
  });

  it("counts the residual of a priced resource that does not clear, and over-use of a free one", () => {
    const scenario = smallScenario(0, 0);
    const alloc = (x: number) => ["a", "b", "c"].map((agent) => ({ agent, x }));
    expect(
      computeMetrics(scenario, { prices: [1], allocations: alloc(3) }, { optimum: 0 }).residual,
    ).toBeCloseTo(1 / 10, 12);
    expect(
      computeMetrics(scenario, { prices: [0], allocations: alloc(4) }, { optimum: 0 }).residual,
    ).toBeCloseTo(2 / 10, 12);
  });

  it("finds envy exactly where an agent is held below a level it prefers", () => {
    // tau = g = 0, p = 0: a and b want alpha/beta - 1 = 9; c wants 4/2 - 1 = 1.
    const scenario = smallScenario(0, 0);
    const rationed = computeMetrics(
      scenario,
      {
        prices: [0],
        allocations: [
          { agent: "a", x: 2 },
          { agent: "b", x: 5 },
          { agent: "c", x: 1 },
        ],
      },
      { optimum: 0 },
    );
    // a would rather have b's 5 (closer to its 9); b prefers its own 5 to 2 or 1; c is at its optimum.
    expect(rationed.envy).toBe(1);

    // At p = 1.5 every agent's best response: a, b: 10/2.5 - 1 = 3; c: 4/3.5 - 1 = 1/7.
    const equilibrium = computeMetrics(
      scenario,
      {
        prices: [1.5],
        allocations: [
          { agent: "a", x: 3 },
          { agent: "b", x: 3 },
          { agent: "c", x: 1 / 7 },
        ],
      },
      { optimum: 0 },
    );
    expect(equilibrium.envy).toBe(0);
  });

  it("rejects an outcome that leaves an agent out or gives it a negative level", () => {
    const scenario = smallScenario(0, 0);
    expect(() =>
      computeMetrics(scenario, { prices: [0], allocations: [{ agent: "a", x: 1 }] }, { optimum: 0 }),
    ).toThrow(/agent b/);
    expect(() =>
      computeMetrics(
        scenario,
        {
          prices: [0],
          allocations: [
            { agent: "a", x: 1 },
            { agent: "b", x: -1 },
            { agent: "c", x: 0 },
          ],
        },
        { optimum: 0 },
      ),
    ).toThrow(/agent b/);
  });
});
