import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ScenarioAgent } from "../src/economics/agent.ts";
import { bestResponse } from "../src/economics/best-response.ts";
import { simulate } from "../src/economics/equilibrium.ts";
import { solveReference } from "../src/economics/reference-solver.ts";
import { type Scenario, scenarioSchema } from "../src/economics/scenario.ts";
import type { PriceRule } from "../src/wire/contract.ts";

/**
 * Random scenarios with g = 0 (unique equilibrium). Consumers use every resource with a
 * non-negative footprint; suppliers provide one resource (negative entry) and always carry
 * quadratic cost c > 0, so their best response is finite at every price.
 *
 * wellConditioned (for the gradient rule) drops power valuations and keeps tau >= 0.3. The derived
 * step eta = 1/L takes L from the slopes at the first prices; a power valuation's slope grows
 * without bound as its unit price falls to 0, so the step can be 1e4 times too small for the
 * slopes at p*, and the paper's rule then needs 1e5+ rounds. That is a property of the rule
 * (reported by the bench), not something a test of correctness should wait for.
 */
/**
 * A footprint entry: 0 (the agent does not use the resource) or a real amount. Left out: values
 * like 1e-300, which fast-check loves and no market has; with them a resource is "used" by nobody
 * in any measurable way, and its price is a matter of floating-point noise.
 */
function footprintEntry(max: number): fc.Arbitrary<number> {
  return fc.oneof(fc.constant(0), fc.double({ min: 0.05, max, noNaN: true }));
}

function scenarioArb(resources: number, wellConditioned: boolean): fc.Arbitrary<Scenario> {
  const R = resources;
  const families = [
    fc.record({ kind: fc.constant("log" as const), alpha: fc.double({ min: 2, max: 20, noNaN: true }) }),
    fc.record({
      kind: fc.constant("quadratic" as const),
      a: fc.double({ min: 2, max: 20, noNaN: true }),
      b: fc.double({ min: 0.2, max: 2, noNaN: true }),
    }),
    fc.record({
      kind: fc.constant("power" as const),
      w: fc.double({ min: 1, max: 6, noNaN: true }),
      theta: fc.oneof(
        fc.double({ min: 0.3, max: 0.9, noNaN: true }),
        fc.double({ min: 1.2, max: 2.5, noNaN: true }),
      ),
    }),
  ] as const;
  const valuation = wellConditioned ? fc.oneof(families[0], families[1]) : fc.oneof(...families);
  const consumer = fc.record({
    valuation,
    cost: fc.oneof(
      fc.record({ kind: fc.constant("linear" as const), beta: fc.double({ min: 0.3, max: 5, noNaN: true }) }),
      fc.record({
        kind: fc.constant("quadratic" as const),
        beta: fc.double({ min: 0, max: 3, noNaN: true }),
        c: fc.double({ min: 0.05, max: 2, noNaN: true }),
      }),
    ),
    footprint: fc
      .array(footprintEntry(2), { minLength: R, maxLength: R })
      .filter((a) => a.some((v) => v >= 0.2)),
  });
  const supplier = fc.record({
    valuation,
    cost: fc.record({
      kind: fc.constant("quadratic" as const),
      beta: fc.double({ min: 0, max: 3, noNaN: true }),
      c: fc.double({ min: 0.2, max: 3, noNaN: true }),
    }),
    footprint: fc
      .tuple(
        fc.integer({ min: 0, max: R - 1 }),
        fc.array(footprintEntry(1), { minLength: R, maxLength: R }),
        fc.double({ min: 0.3, max: 2, noNaN: true }),
      )
      .map(([j, a, s]) => a.map((v, r) => (r === j ? -s : v))),
  });
  return fc
    .record({
      consumers: fc.array(consumer, { minLength: 2, maxLength: 10 }),
      suppliers: fc.array(supplier, { maxLength: 3 }),
      capacities: fc.array(fc.double({ min: 1, max: 30, noNaN: true }), { minLength: R, maxLength: R }),
      tau: fc.double({ min: wellConditioned ? 0.3 : 0, max: 1.5, noNaN: true }),
    })
    .map(({ consumers, suppliers, capacities, tau }) => {
      const agents: ScenarioAgent[] = [...consumers, ...suppliers].map((a, i) => ({
        id: `agent-${i}`,
        ...a,
      }));
      return scenarioSchema.parse({
        contract: {
          name: "property",
          resources: capacities.map((m, r) => ({ id: `r${r}`, capacity: m })),
          fees: { perUnit: tau, fixed: 0 },
          // Tight enough that the engine's prices are within 1e-6 of the exact ones.
          tolerance: { residual: 1e-10, price: 1e-10 },
          maxRounds: 200_000,
        },
        agents,
      });
    });
}

const near = (actual: number, expected: number, rel: number, floor: number) =>
  Math.abs(actual - expected) <= rel * Math.abs(expected) + floor;

function checkEquilibrium(scenario: Scenario, rule: PriceRule): void {
  const result = simulate(scenario, { rule });
  expect(result.status, result.note).not.toBe("round-limit");
  const { contract } = scenario;
  const prices = result.prices;
  // 1. Every allocation is the agent's (non-proximal) best response at p*.
  const byId = new Map(scenario.agents.map((a) => [a.id, a]));
  const supply = new Array<number>(contract.resources.length).fill(0);
  for (const { agent, x } of result.allocations) {
    const a = byId.get(agent) as ScenarioAgent;
    expect(near(x, bestResponse(a, contract, prices).x, 1e-9, 1e-12)).toBe(true);
    a.footprint.forEach((v, r) => {
      supply[r] = (supply[r] as number) + v * x;
    });
  }
  // 2. Complementary slackness, from the allocations themselves.
  contract.resources.forEach((res, r) => {
    const s = supply[r] as number;
    const p = prices[r] as number;
    expect(p).toBeGreaterThanOrEqual(0);
    expect(s).toBeLessThanOrEqual(res.capacity * (1 + 1e-6));
    if (p > 0) expect(Math.abs(s - res.capacity) / res.capacity).toBeLessThanOrEqual(1e-6);
  });
  // 3. Agreement with the independent reference solver.
  const ref = solveReference(scenario);
  expect(ref.status).not.toBe("approximate");
  // Near a zero price an absolute floor is needed: a price move that shifts supply by less than the
  // stopping tolerance (eps * m_r / |dS_r/dp_r|) is invisible to any stopping rule.
  const slopeOf = (r: number) =>
    scenario.agents.reduce(
      (sum, a) => sum + bestResponse(a, contract, prices).slope * (a.footprint[r] as number) ** 2,
      0,
    );
  const pricesMatch = prices.every((p, r) => {
    const capacity = contract.resources[r]?.capacity as number;
    // Capped: where hardly anyone responds to a price, a loose floor would let anything pass.
    const floor = Math.min(
      1e-5,
      Math.max(1e-7, (contract.tolerance.residual * capacity) / Math.abs(slopeOf(r))),
    );
    return near(p, ref.prices[r] as number, 1e-6, floor);
  });
  if (!pricesMatch) {
    // The equilibrium allocation is unique, its prices only when enough agents are active: with
    // fewer active agents than priced resources a whole set of prices supports it. Then the
    // reference's prices must support the very same allocation.
    for (const { agent, x } of result.allocations) {
      const a = byId.get(agent) as ScenarioAgent;
      const atRef = bestResponse(a, contract, ref.prices).x;
      expect(near(atRef, x, 1e-6, 1e-7), `prices ${prices} vs ${ref.prices}: ${agent} ${x} vs ${atRef}`).toBe(
        true,
      );
    }
  }
  result.allocations.forEach((al, i) => {
    const rx = ref.allocations[i];
    expect(rx?.agent).toBe(al.agent);
    expect(near(al.x, rx?.x as number, 1e-6, 1e-7), `x of ${al.agent}: ${al.x} vs ${rx?.x}`).toBe(true);
  });
  if (result.status === "not-binding") expect(ref.status).toBe("not-binding");
}

const runs = { numRuns: 100 };
/**
 * A fixed seed keeps CI deterministic; FC_SEED=<n> explores others. Some seeds find degenerate
 * 3-resource markets (a supplier at its participation kink, a resource used by one agent with a
 * tiny footprint) where the newton rule crawls for 1e5+ rounds: a known weakness of its damping,
 * reported in docs/economics.md, not hidden by this seed.
 */
const SEED = Number(process.env.FC_SEED ?? 1);
const rules: PriceRule[] = [{ kind: "newton" }, { kind: "gradient" }];

describe("simulate reaches the contract equilibrium (g = 0)", () => {
  for (const rule of rules)
    for (const R of [1, 2, 3])
      it(`${rule.kind}, ${R} resource(s): best responses, complementary slackness, matches solveReference`, () => {
        fc.assert(
          fc.property(scenarioArb(R, rule.kind === "gradient"), (s) => checkEquilibrium(s, rule)),
          { ...(R === 1 ? { numRuns: 200 } : runs), seed: SEED },
        );
      });
});
