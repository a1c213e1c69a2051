import { describe, expect, it } from "vitest";
import type { Cost, Valuation } from "../src/economics/agent.ts";
import { costCurvature, costMarginal, costValue } from "../src/economics/cost.ts";
import { valuationCurvature, valuationMarginal, valuationValue } from "../src/economics/valuation.ts";

/** Central differences: the derivatives are checked against the values, not against themselves. */
function derivative(f: (x: number) => number, x: number, h = 1e-5): number {
  return (f(x + h) - f(x - h)) / (2 * h);
}

const valuations: Valuation[] = [
  { kind: "log", alpha: 7.5 },
  { kind: "quadratic", a: 10, b: 0.8 },
  { kind: "power", w: 3, theta: 0.4 },
  { kind: "power", w: 2, theta: 2.5 },
];
const costs: Cost[] = [
  { kind: "linear", beta: 1.7 },
  { kind: "quadratic", beta: 0.3, c: 1.9 },
];
const points = [0.05, 0.7, 3, 12.5];

describe("valuations", () => {
  for (const v of valuations)
    for (const x of points)
      it(`${JSON.stringify(v)} at x = ${x}: V' and V'' match finite differences`, () => {
        const m = valuationMarginal(v, x);
        const c = valuationCurvature(v, x);
        expect(m).toBeCloseTo(
          derivative((t) => valuationValue(v, t), x, 1e-6 * Math.max(1, x)),
          5,
        );
        expect(c).toBeCloseTo(
          derivative((t) => valuationMarginal(v, t), x, 1e-6 * Math.max(1, x)),
          3,
        );
        expect(c).toBeLessThan(0);
      });

  it("is 0 at x = 0 except for power with theta > 1, which is -Infinity there", () => {
    expect(valuationValue({ kind: "log", alpha: 3 }, 0)).toBe(0);
    expect(valuationValue({ kind: "quadratic", a: 3, b: 1 }, 0)).toBe(0);
    expect(valuationValue({ kind: "power", w: 3, theta: 0.5 }, 0)).toBe(0);
    expect(valuationValue({ kind: "power", w: 3, theta: 1.5 }, 0)).toBe(Number.NEGATIVE_INFINITY);
    expect(valuationMarginal({ kind: "power", w: 3, theta: 0.5 }, 0)).toBe(Number.POSITIVE_INFINITY);
  });

  it("log is alpha ln(1+x)", () => {
    expect(valuationValue({ kind: "log", alpha: 2 }, Math.E - 1)).toBeCloseTo(2, 14);
  });
});

describe("costs", () => {
  for (const c of costs)
    for (const x of points)
      it(`${JSON.stringify(c)} at x = ${x}: C' and C'' match finite differences`, () => {
        expect(costMarginal(c, x)).toBeCloseTo(
          derivative((t) => costValue(c, t), x),
          6,
        );
        expect(costCurvature(c, x)).toBeCloseTo(
          derivative((t) => costMarginal(c, t), x),
          6,
        );
        expect(costValue(c, 0)).toBe(0);
      });
});
