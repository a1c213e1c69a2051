import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AgentProfile } from "../src/economics/agent.ts";
import { bestResponse, footprintCap } from "../src/economics/best-response.ts";
import type { ReportedDemand } from "../src/economics/demand.ts";
import {
  initialPriceRuleState,
  type PackedDemands,
  packDemands,
  stepPrices,
  stepPricesPacked,
} from "../src/economics/price-rule.ts";
import { type Contract, contractSchema, type NewtonModel, type PriceRule } from "../src/wire/contract.ts";
import { asAgentId } from "../src/wire/ids.ts";

function contract(capacities: number[], priceRule: PriceRule): Contract {
  return contractSchema.parse({
    name: "rule",
    resources: capacities.map((m, r) => ({ id: `r${r}`, capacity: m })),
    fees: { perUnit: 0.5, fixed: 0 },
    priceRule,
  });
}

const demandArb = (R: number) =>
  fc.record({
    x: fc.double({ min: 0, max: 50, noNaN: true }),
    slope: fc.double({ min: -20, max: 0, noNaN: true }),
    footprint: fc.array(fc.double({ min: -2, max: 2, noNaN: true }), { minLength: R, maxLength: R }),
    // Where it leaves its activity cap; the rule uses it only when x is at that cap (`capped`).
    exit: fc.option(
      fc.record({
        price: fc.double({ min: -5, max: 10, noNaN: true }),
        slope: fc.double({ min: -20, max: -1e-3, noNaN: true }),
      }),
      { nil: undefined },
    ),
    capped: fc.boolean(),
  });

const bits = (xs: readonly number[]) => Array.from(new Uint8Array(new Float64Array(xs).buffer));

const NEWTON_RULES: { kind: "newton"; model?: NewtonModel }[] = [
  { kind: "newton" },
  { kind: "newton", model: "sums" },
  { kind: "newton", model: "curves" },
];

describe("stepPrices", () => {
  for (const rule of [
    { kind: "newton" },
    { kind: "newton", model: "sums" },
    { kind: "gradient" },
  ] as PriceRule[])
    it(`${JSON.stringify(rule)}: the same demand set in any order gives identical bits`, () => {
      fc.assert(
        fc.property(
          fc
            .integer({ min: 1, max: 3 })
            .chain((R) =>
              fc.tuple(
                fc.constant(R),
                fc.array(demandArb(R), { minLength: 2, maxLength: 30 }),
                fc.array(fc.double({ min: 0, max: 5, noNaN: true }), { minLength: R, maxLength: R }),
              ),
            ),
          fc.integer(),
          ([R, raw, prices], seed) => {
            const k = contract(new Array(R).fill(10), rule);
            const demands: ReportedDemand[] = raw.map(({ capped, exit, ...d }, i) => ({
              ...d,
              ...(capped ? { x: footprintCap(k, d.footprint, 0) } : {}),
              ...(exit ? { exit } : {}),
              agent: asAgentId(`peer-${i * 7919}`),
            }));
            const permuted = fc.sample(fc.shuffledSubarray(demands, { minLength: demands.length }), {
              seed,
              numRuns: 1,
            })[0] as ReportedDemand[];
            const a = stepPrices(k, initialPriceRuleState(k), prices, demands);
            const b = stepPrices(k, initialPriceRuleState(k), prices, permuted);
            expect(bits(b.prices)).toEqual(bits(a.prices));
            expect(bits(b.supply)).toEqual(bits(a.supply));
            expect(JSON.stringify(b.state)).toEqual(JSON.stringify(a.state));
          },
        ),
        { numRuns: 150 },
      );
    });

  it("supply is sum_i a_ir x_i and the gradient rule moves p by eta (S - m), projected", () => {
    const k = contract([10, 4], { kind: "gradient", step: 0.1 });
    const demands: ReportedDemand[] = [
      { agent: asAgentId("b"), x: 6, slope: -1, footprint: [1, 0.5] },
      { agent: asAgentId("a"), x: 5, slope: -2, footprint: [1, -1] },
    ];
    const s = stepPrices(k, initialPriceRuleState(k), [1, 0.05], demands);
    expect(s.supply).toEqual([11, -2]);
    expect(s.prices[0]).toBeCloseTo(1 + 0.1 * (11 - 10), 15);
    expect(s.prices[1]).toBe(0); // 0.05 + 0.1 (-2 - 4) < 0
    expect(s.rule).toBe("gradient");
  });

  it("gradient's derived step is 1/L, L = sum |slope_i| ||a_i||^2 of the first round", () => {
    const k = contract([10], { kind: "gradient" });
    const demands: ReportedDemand[] = [
      { agent: asAgentId("a"), x: 8, slope: -2, footprint: [1] },
      { agent: asAgentId("b"), x: 4, slope: -0.5, footprint: [2] },
    ];
    const L = 2 * 1 + 0.5 * 4;
    const s = stepPrices(k, initialPriceRuleState(k), [0], demands);
    expect(s.prices[0]).toBeCloseTo((8 + 8 - 10) / L, 15);
    expect(s.state.lipschitz).toBe(L);
  });

  for (const rule of NEWTON_RULES)
    it(`newton (${rule.model ?? "hinges"} model) clears linear demand (quadratic valuations) in one step, one and several resources`, () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 3 }).chain((R) =>
            fc.array(
              fc.record({
                a: fc.double({ min: 20, max: 40, noNaN: true }),
                b: fc.double({ min: 0.5, max: 2, noNaN: true }),
                footprint: fc.array(fc.double({ min: 0.2, max: 1, noNaN: true }), {
                  minLength: R,
                  maxLength: R,
                }),
              }),
              { minLength: R + 2, maxLength: 8 },
            ),
          ),
          (agents) => {
            const R = agents[0]?.footprint.length ?? 1;
            const profiles: AgentProfile[] = agents.map((g) => ({
              valuation: { kind: "quadratic", a: g.a, b: g.b },
              cost: { kind: "linear", beta: 0 },
              footprint: g.footprint,
            }));
            // Capacities at 30% of the demand at p = 0 bind every resource.
            const k0 = contract(new Array(R).fill(1), rule);
            const s0 = new Array(R).fill(0);
            profiles.forEach((p) => {
              const x = bestResponse(p, k0, s0).x;
              p.footprint.forEach((a, r) => {
                s0[r] += a * x;
              });
            });
            const k = contract(
              s0.map((s) => 0.3 * s),
              rule,
            );
            const report = (prices: number[]) =>
              profiles.map((p, i) => ({
                agent: asAgentId(`a${i}`),
                footprint: p.footprint,
                ...bestResponse(p, k, prices),
              }));
            const step = stepPrices(
              k,
              initialPriceRuleState(k),
              s0.map(() => 0),
              report(s0.map(() => 0)),
            );
            const after = stepPrices(k, step.state, step.prices, report(step.prices));
            // If every agent stays interior, S is linear in p and one newton step is exact, unless
            // the trust region cut the step short (its first radius is a guess; the step then reaches
            // the region's edge, and the next rounds widen it).
            if (report(step.prices).some((d) => d.x === 0) || step.prices.some((p) => p === 0)) return;
            const tried = step.state.newton;
            if (tried?.step.some((d, r) => Math.abs(d) >= (1 - 1e-9) * (tried.radius[r] as number))) return;
            expect(after.residual).toBeLessThan(1e-10);
          },
        ),
        { numRuns: 100 },
      );
    });

  it("newton's sums model steps on S and H alone; its hinge model on each member's kink", () => {
    // m = 10 at p = 1. Both markets have S = 14, H = sum |s_i| a_i^2 = 1 and the same first region
    // (member scales x/|s| with median 14 and largest 26: 26), so Newton's step is (S - m)/H = 4.
    // In the first market no member's linearised demand reaches 0 within 4 (the nearest at 8). In
    // the second, one member's 0.5 - 0.25 dq does at dq = 2, and past it the other two's
    // 13.5 - 0.75 dq clears 10 at dq = 14/3, where the hinge model stops.
    const member = (agent: string, x: number, slope: number): ReportedDemand => ({
      agent: asAgentId(agent),
      x,
      slope,
      footprint: [1],
    });
    const wide = [member("a", 4, -0.5), member("b", 3.5, -0.25), member("c", 6.5, -0.25)];
    const kinked = [member("a", 0.5, -0.25), member("b", 7, -0.5), member("c", 6.5, -0.25)];
    const next = (rule: PriceRule, demands: ReportedDemand[]) => {
      const k = contract([10], rule);
      return stepPrices(k, initialPriceRuleState(k), [1], demands).prices[0];
    };
    // (H is regularised by 1e-13 of itself: 5 to about 12 digits.)
    const sums = { kind: "newton", model: "sums" } as const;
    expect(next(sums, wide)).toBeCloseTo(5, 10);
    expect(next(sums, kinked)).toBe(next(sums, wide));
    expect(next({ kind: "newton" }, wide)).toBeCloseTo(5, 10);
    expect(next({ kind: "newton" }, kinked)).toBeCloseTo(1 + 14 / 3, 10);
  });

  it("newton returns to its anchor with a smaller region when a step overshoots", () => {
    const k = contract([10], { kind: "newton" });
    const demand = (x: number, slope: number): ReportedDemand[] => [
      { agent: asAgentId("a"), x, slope, footprint: [1] },
    ];
    // S = 14 > m = 10 at p = 1, slope -1: newton's step is +4 (within the first region, 1 + 14 = 15).
    const first = stepPrices(k, initialPriceRuleState(k), [1], demand(14, -1));
    expect(first.prices[0]).toBeCloseTo(5, 10);
    // At p = 5 demand has collapsed to 0: far past the market's minimum along the step. phi' went
    // from -4 * 4 to +10 * 4, so the minimiser lies at t = 16 / 56 of the step.
    const second = stepPrices(k, first.state, first.prices, demand(0, 0));
    expect(second.state.newton?.anchor.prices).toEqual([1]);
    expect(second.state.newton?.radius[0]).toBeCloseTo(4 * Math.max(0.25, 16 / 56), 10);
    // The next step starts from the anchor again, now within the smaller region.
    expect(second.prices[0]).toBeGreaterThan(1);
    expect(second.prices[0]).toBeLessThan(5);
  });

  it("rejects a demand set naming an agent twice, or a footprint of the wrong size", () => {
    const k = contract([10], { kind: "newton" });
    const d: ReportedDemand = { agent: asAgentId("a"), x: 1, slope: -1, footprint: [1] };
    expect(() => stepPrices(k, initialPriceRuleState(k), [0], [d, d])).toThrow(/agent a appears twice/);
    expect(() => stepPrices(k, initialPriceRuleState(k), [0], [{ ...d, footprint: [1, 2] }])).toThrow(
      /footprint has 2/,
    );
  });

  it("newton, no demand with an exit: no exit arrays, and the same bits as with all-zero ones", () => {
    const k = contract([10], { kind: "newton" });
    const demands: ReportedDemand[] = [3, 5, 9].map((x, i) => ({
      agent: asAgentId(`peer-${i}`),
      x,
      slope: -x / 4,
      footprint: [1],
    }));
    const packed = packDemands(k, demands);
    expect(packed.exitSlope).toBeUndefined();
    const zeros: PackedDemands = {
      ...packed,
      exitPrice: new Float64Array(3),
      exitSlope: new Float64Array(3),
    };
    let [state, zeroState] = [initialPriceRuleState(k), initialPriceRuleState(k)];
    let [prices, zeroPrices] = [[0.2], [0.2]];
    for (let round = 0; round < 3; round++) {
      const a = stepPricesPacked(k, state, prices, packed);
      const b = stepPricesPacked(k, zeroState, zeroPrices, zeros);
      expect(bits(a.prices)).toEqual(bits(b.prices));
      expect(a.state.newton?.anchor.exitSlopes).toBeUndefined();
      [state, prices, zeroState, zeroPrices] = [a.state, a.prices, b.state, b.prices];
    }
  });
});
