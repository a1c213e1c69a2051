import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AgentProfile, Cost, Valuation } from "../src/economics/agent.ts";
import { activityCap, bestResponse, payoff } from "../src/economics/best-response.ts";
import { type Contract, contractSchema } from "../src/wire/contract.ts";

function contract(perUnit: number, fixed = 0, proximal = 0, capacity = 100): Contract {
  return contractSchema.parse({
    name: "br",
    resources: [{ id: "r", capacity }],
    fees: { perUnit, fixed },
    proximal,
  });
}

/**
 * Numerical argmax of a concave f on [0, hi]: the best point of a dense grid, refined by golden
 * section between its neighbours. Knows nothing of first-order conditions or closed forms.
 */
function numericalArgmax(f: (x: number) => number, hi: number): number {
  const N = 4000;
  let best = 0;
  let bestValue = f(0);
  for (let i = 1; i <= N; i++) {
    const x = (hi * i) / N;
    const v = f(x);
    if (v > bestValue) {
      best = i;
      bestValue = v;
    }
  }
  let a = (hi * Math.max(0, best - 1)) / N;
  let b = (hi * Math.min(N, best + 1)) / N;
  const phi = (Math.sqrt(5) - 1) / 2;
  for (let k = 0; k < 200 && b - a > 1e-13; k++) {
    const c = b - phi * (b - a);
    const d = a + phi * (b - a);
    if (f(c) >= f(d)) b = d;
    else a = c;
  }
  const x = (a + b) / 2;
  return f(0) >= f(x) ? 0 : x;
}

const valuationArb: fc.Arbitrary<Valuation> = fc.oneof(
  fc.record({ kind: fc.constant("log" as const), alpha: fc.double({ min: 1, max: 20, noNaN: true }) }),
  fc.record({
    kind: fc.constant("quadratic" as const),
    a: fc.double({ min: 1, max: 20, noNaN: true }),
    b: fc.double({ min: 0.2, max: 3, noNaN: true }),
  }),
  fc.record({
    kind: fc.constant("power" as const),
    w: fc.double({ min: 0.5, max: 3, noNaN: true }),
    // theta >= 0.5 keeps (w/q)^(1/theta) inside the search interval.
    theta: fc.oneof(
      fc.double({ min: 0.5, max: 0.9, noNaN: true }),
      fc.double({ min: 1.2, max: 3, noNaN: true }),
    ),
  }),
);
const costArb: fc.Arbitrary<Cost> = fc.oneof(
  fc.record({ kind: fc.constant("linear" as const), beta: fc.double({ min: 0, max: 5, noNaN: true }) }),
  fc.record({
    kind: fc.constant("quadratic" as const),
    beta: fc.double({ min: 0, max: 5, noNaN: true }),
    c: fc.double({ min: 0.05, max: 3, noNaN: true }),
  }),
);
// Unit prices kept >= 0.3 so every optimum lies well inside the search interval [0, 200].
const tauArb = fc.double({ min: 0.3, max: 4, noNaN: true });
const closeTo = (actual: number, expected: number, rel: number) =>
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * (1 + Math.abs(expected)));

describe("bestResponse", () => {
  it("maximises the payoff (every family, checked by grid + golden section)", () => {
    fc.assert(
      fc.property(valuationArb, costArb, tauArb, (valuation, cost, tau) => {
        const profile: AgentProfile = { valuation, cost, footprint: [1] };
        const k = contract(tau);
        const d = bestResponse(profile, k, [0]);
        const x = numericalArgmax((t) => payoff(profile, k, [0], t), 200);
        closeTo(d.x, x, 1e-6);
        expect(payoff(profile, k, [0], d.x)).toBeGreaterThanOrEqual(payoff(profile, k, [0], x) - 1e-9);
      }),
      { numRuns: 150 },
    );
  });

  it("reports slope = dx/dq (finite differences in the unit price)", () => {
    fc.assert(
      fc.property(valuationArb, costArb, tauArb, (valuation, cost, tau) => {
        const profile: AgentProfile = { valuation, cost, footprint: [1] };
        const h = 1e-6;
        const d = bestResponse(profile, contract(tau), [0]);
        const up = bestResponse(profile, contract(tau + h), [0]).x;
        const down = bestResponse(profile, contract(tau - h), [0]).x;
        if (up === 0 || down === 0) return; // at the corner x = 0 the slope is one-sided
        expect(d.slope).toBeLessThan(0);
        closeTo(d.slope, (up - down) / (2 * h), 1e-4);
      }),
      { numRuns: 150 },
    );
  });

  it("log/linear matches the paper's closed form max(0, alpha/(beta+q) - 1) with q = tau + a.p", () => {
    const profile: AgentProfile = {
      valuation: { kind: "log", alpha: 12 },
      cost: { kind: "linear", beta: 2 },
      footprint: [1.5],
    };
    const d = bestResponse(profile, contract(0.5), [0.4]);
    expect(d.x).toBeCloseTo(12 / (2 + 0.5 + 1.5 * 0.4) - 1, 12);
    expect(bestResponse(profile, contract(0.5), [10]).x).toBe(0);
    expect(bestResponse(profile, contract(0.5), [10]).slope).toBe(0);
  });

  it("proximal: maximises U(x) - gamma/2 (x - previous)^2", () => {
    fc.assert(
      fc.property(
        valuationArb,
        costArb,
        tauArb,
        fc.double({ min: 0.1, max: 5, noNaN: true }),
        fc.double({ min: 0, max: 20, noNaN: true }),
        (valuation, cost, tau, gamma, previous) => {
          const profile: AgentProfile = { valuation, cost, footprint: [1] };
          const k = contract(tau, 0, gamma);
          const d = bestResponse(profile, k, [0], previous);
          const x = numericalArgmax(
            (t) => payoff(profile, k, [0], t) - (gamma / 2) * (t - previous) ** 2,
            200,
          );
          closeTo(d.x, x, 1e-6);
          if (d.x > 0) {
            const h = 1e-6;
            const up = bestResponse(profile, contract(tau + h, 0, gamma), [0], previous).x;
            const down = bestResponse(profile, contract(tau - h, 0, gamma), [0], previous).x;
            if (down > 0 && up > 0) closeTo(d.slope, (up - down) / (2 * h), 1e-4);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it("with a fixed fee g participates exactly when the best payoff covers g", () => {
    fc.assert(
      fc.property(
        valuationArb,
        costArb,
        tauArb,
        fc.double({ min: 0.01, max: 30, noNaN: true }),
        (valuation, cost, tau, g) => {
          const profile: AgentProfile = { valuation, cost, footprint: [1] };
          const free = contract(tau, 0);
          const fee = contract(tau, g);
          const x = numericalArgmax((t) => payoff(profile, free, [0], t), 200);
          const gain = payoff(profile, free, [0], x) - payoff(profile, free, [0], 0);
          const d = bestResponse(profile, fee, [0]);
          if (Math.abs(gain - g) < 1e-6) return; // too close to the margin to judge numerically
          if (gain > g) {
            closeTo(d.x, x, 1e-6);
            expect(payoff(profile, fee, [0], d.x)).toBeGreaterThan(payoff(profile, fee, [0], 0));
          } else {
            expect(d).toEqual({ x: 0, slope: 0 });
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it("power with theta > 1 always participates, whatever the fee (V(0) = -Infinity)", () => {
    const profile: AgentProfile = {
      valuation: { kind: "power", w: 0.01, theta: 2 },
      cost: { kind: "linear", beta: 5 },
      footprint: [1],
    };
    const d = bestResponse(profile, contract(5, 1000), [0]);
    expect(d.x).toBeGreaterThan(0);
    expect(d.x).toBeCloseTo(Math.sqrt(0.01 / 10), 12);
  });

  it("a supplier paid more than its marginal cost with no curvature stops at the activity cap", () => {
    const supplier: AgentProfile = {
      valuation: { kind: "log", alpha: 2 },
      cost: { kind: "linear", beta: 1 },
      footprint: [-1],
    };
    const k = contract(0, 0, 0, 50);
    // q = -p = -3 <= -beta: every extra unit earns 2 forever.
    const d = bestResponse(supplier, k, [3]);
    expect(d.x).toBe(activityCap(supplier, k));
    expect(d.x).toBe(1000 * 50);
    expect(d.slope).toBe(0);
    // It leaves the cap where V'(cap) - C'(cap) = q: q = 2/50,001 - 1, with slope (1 + cap)^2 / -2.
    expect(d.exit?.price).toBeCloseTo(2 / 50_001 - 1, 12);
    expect(d.exit?.slope).toBe(-(50_001 ** 2) / 2);
    // With quadratic cost the same supplier has an interior, finite answer.
    const curved: AgentProfile = { ...supplier, cost: { kind: "quadratic", beta: 1, c: 0.5 } };
    const x = numericalArgmax((t) => payoff(curved, k, [3], t), 200);
    closeTo(bestResponse(curved, k, [3]).x, x, 1e-6);
  });

  it("a consumer at its activity cap says where it leaves it, and its demand follows from there", () => {
    // 10 x - 0.0005 x^2, linear cost 1: x = (9 - q) / 0.001, capped at 1,000 (capacity 1).
    const consumer: AgentProfile = {
      valuation: { kind: "quadratic", a: 10, b: 0.001 },
      cost: { kind: "linear", beta: 1 },
      footprint: [1],
    };
    const k = contract(0, 0, 0, 1);
    const atCap = bestResponse(consumer, k, [0]);
    expect(atCap).toMatchObject({ x: 1000, slope: 0 });
    expect(atCap.exit?.price).toBeCloseTo(8, 12);
    expect(atCap.exit?.slope).toBeCloseTo(-1000, 9);
    // Past the exit the demand is the claimed line: 1,000 - 1,000 (8.5 - 8).
    const past = bestResponse(consumer, k, [8.5]);
    closeTo(past.x, 500, 1e-9);
    expect(past.exit).toBeUndefined();
  });
});
