import { describe, expect, it } from "vitest";
import { chargesAt } from "../src/economics/charges.ts";
import { paperScenario } from "../src/economics/paper-scenario.ts";
import { solveReference } from "../src/economics/reference-solver.ts";
import { scenarioSchema } from "../src/economics/scenario.ts";

const twoResources = {
  resources: [
    { id: "cpu", capacity: 10 },
    { id: "energy", capacity: 4 },
  ],
  fees: { perUnit: 0.25, fixed: 1 },
};

describe("chargesAt", () => {
  it("matches a hand computation: consumer, idle member, supplier", () => {
    // prices p = (2, 0.5), tau = 0.25, g = 1. By hand:
    //   a  x=4, a=(1, 0.5):  cpu 2·1·4 = 8, energy 0.5·0.5·4 = 1, tau·x = 1, g = 1  → 11
    //   b  x=0, a=(1, 1):    nothing, and no fixed fee since x = 0                  → 0
    //   s  x=3, a=(0, -1):   cpu 0, energy 0.5·(-1)·3 = -1.5 (paid), 0.75, g = 1    → 0.25
    // totals: cpu 8, energy -0.5, per-unit 1.75, fixed 2, all 11.25
    const charges = chargesAt(
      twoResources,
      [2, 0.5],
      [
        { agent: "a", x: 4, footprint: [1, 0.5] },
        { agent: "b", x: 0, footprint: [1, 1] },
        { agent: "s", x: 3, footprint: [0, -1] },
      ],
    );
    expect(charges.members).toEqual([
      { agent: "a", x: 4, resourcePayments: [8, 1], perUnitFee: 1, fixedFee: 1, total: 11 },
      { agent: "b", x: 0, resourcePayments: [0, 0], perUnitFee: 0, fixedFee: 0, total: 0 },
      { agent: "s", x: 3, resourcePayments: [0, -1.5], perUnitFee: 0.75, fixedFee: 1, total: 0.25 },
    ]);
    expect(charges.totals).toEqual({
      resourcePayments: [8, -0.5],
      perUnitFees: 1.75,
      fixedFees: 2,
      total: 11.25,
    });
  });

  it("a missing price or footprint entry charges nothing for that resource", () => {
    const charges = chargesAt(twoResources, [3], [{ agent: "a", x: 2, footprint: [1] }]);
    expect(charges.members[0]?.resourcePayments).toEqual([6, 0]);
    expect(charges.members[0]?.total).toBe(6 + 0.5 + 1);
  });

  it("at the reference equilibrium, resource payments add up to p_r·m_r where capacity binds", () => {
    // Complementary slackness: S_r = m_r where p_r > 0, so what the members pay for resource r
    // is p_r·m_r, computed here from the contract alone, not from the allocations.
    const scenario = scenarioSchema.parse(paperScenario({ agents: 40, capacity: 30, seed: 7, g: 0 }));
    const ref = solveReference(scenario);
    const footprints = new Map(scenario.agents.map((a) => [a.id, a.footprint]));
    const charges = chargesAt(
      scenario.contract,
      ref.prices,
      ref.allocations.map((a) => ({ agent: a.agent, x: a.x, footprint: footprints.get(a.agent) ?? [] })),
    );
    const p = ref.prices[0] as number;
    expect(p).toBeGreaterThan(0);
    expect(charges.totals.resourcePayments[0]).toBeCloseTo(p * 30, 6);
    const xs = ref.allocations.reduce((s, a) => s + a.x, 0);
    expect(charges.totals.perUnitFees).toBeCloseTo(scenario.contract.fees.perUnit * xs, 9);
    expect(charges.totals.total).toBeCloseTo(p * 30 + scenario.contract.fees.perUnit * xs, 6);
  });
});
