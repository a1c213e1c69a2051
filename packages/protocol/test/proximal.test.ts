import { describe, expect, it } from "vitest";
import { bestResponse } from "../src/economics/best-response.ts";
import { type SimulationResult, simulate } from "../src/economics/equilibrium.ts";
import { paperProfiles, paperScenario } from "../src/economics/paper-scenario.ts";
import { initialPriceRuleState, stepPrices } from "../src/economics/price-rule.ts";
import { solveReference } from "../src/economics/reference-solver.ts";
import { type Scenario, scenarioSchema } from "../src/economics/scenario.ts";
import { type SimNode, SimulatedNetwork } from "../src/sim/simulated-network.ts";
import { contractSchema } from "../src/wire/contract.ts";
import { asAgentId } from "../src/wire/ids.ts";

// Under a proximal contract a member reports argmax U(x; p) - (gamma/2)(x - x_prev)^2, its best
// response only once x stops moving. The stopping rule used to look at the residual and the price
// step alone, so a market whose demand at p = 0 was below capacity only because the members were
// still climbing met both at once: "not binding", p = 0, on most seeds of the paper's market with
// gamma >= 1. Each claim is checked against the independent reference solver, and each allocation
// against the member's true (non-proximal) best response, to 1e-6: a proximal demand that stopped
// moving within the contract's tolerance is its best response to about that.

/** Throws unless `result` is the reference equilibrium and every x its agent's best response. */
function expectReference(scenario: Scenario, result: SimulationResult, where: string): void {
  const ref = solveReference(scenario);
  expect(ref.status, where).toBe("exact");
  result.prices.forEach((p, r) => {
    expect(Math.abs(p - (ref.prices[r] as number)), `${where}: price ${r}`).toBeLessThan(1e-6 * (1 + p));
  });
  for (const a of scenario.agents) {
    const x = result.allocations.find((e) => e.agent === a.id)?.x as number;
    const best = bestResponse(a, scenario.contract, result.prices).x;
    const atRef = ref.allocations.find((e) => e.agent === a.id)?.x as number;
    expect(Math.abs(x - best), `${where}: ${a.id} against its best response`).toBeLessThan(1e-6 * (1 + best));
    expect(Math.abs(x - atRef), `${where}: ${a.id} against the reference`).toBeLessThan(1e-6 * (1 + atRef));
  }
}

function proximal(seed: number, gamma: number, rule: "newton" | "gradient"): Scenario {
  const base = paperScenario({ agents: 50, capacity: 100, seed, g: 0, rule });
  return scenarioSchema.parse({ ...base, contract: { ...base.contract, proximal: gamma } });
}

describe("a proximal contract (gamma > 0)", () => {
  it("never reports an equilibrium its members have not reached (the paper's market, gamma 1, 2, 5)", () => {
    for (const gamma of [1, 2, 5])
      for (const seed of [1, 2, 3])
        for (const rule of ["newton", "gradient"] as const) {
          const scenario = proximal(seed, gamma, rule);
          const result = simulate(scenario);
          const where = `gamma ${gamma} seed ${seed} ${rule}: ${result.status} after ${result.rounds} rounds`;
          if (result.status === "converged" || result.status === "not-binding")
            expectReference(scenario, result, where);
          // The gradient rule is the paper's Algorithm 1: it reaches the equilibrium every time.
          else expect(rule, where).toBe("newton");
        }
  });

  it("a warm-started epoch's first round (proximal already, at p = 0, under capacity) is no round to settle on", () => {
    // Round 0 at p = 0: 4 of 10 units, residual 0, members still climbing. Then one member's demand
    // swings 14/6 for good. Judged by its residual, round 0 was the best round and switched the
    // stall rule off: the epoch ran its whole budget (200 rounds) to settle at p = 0.
    const contract = contractSchema.parse({
      name: "warm",
      resources: [{ id: "r", capacity: 10 }],
      fees: { perUnit: 0, fixed: 0 },
      proximal: 1,
    });
    const demand = (x: number) => [{ agent: asAgentId("a"), x, slope: -1, footprint: [1] }];
    let state = initialPriceRuleState(contract);
    let prices = [0];
    let stalledAt: number | null = null;
    for (let k = 0; k < 300 && stalledAt === null; k++) {
      const step = stepPrices(contract, state, prices, demand(k === 0 ? 4 : k % 2 === 1 ? 14 : 6));
      if (k === 0) expect(step.residual).toBe(0);
      if (step.stall !== null) stalledAt = k;
      state = step.state;
      prices = step.prices;
    }
    expect(stalledAt).not.toBeNull();
    expect(stalledAt as number).toBeLessThan(100);
  });

  it("one member whose demand at p = 0 exceeds capacity: not 'not binding' at p = 0", () => {
    const scenario = scenarioSchema.parse({
      contract: {
        name: "one climbing member",
        resources: [{ id: "r0", capacity: 23.976861590291982 }],
        fees: { perUnit: 0.5450630686245859, fixed: 0 },
        proximal: 1.5043302544839658,
        priceRule: { kind: "gradient" },
      },
      agents: [
        {
          id: "a01",
          valuation: { kind: "log", alpha: 45.63620375560018 },
          cost: { kind: "linear", beta: 1.3980880682356656 },
          footprint: [2.105049986205995],
        },
      ],
    });
    const result = simulate(scenario);
    expect(result.status).toBe("converged");
    expectReference(scenario, result, "gradient");
    const withNewton = scenarioSchema.parse({
      ...scenario,
      contract: { ...scenario.contract, priceRule: { kind: "newton" } },
    });
    expect(simulate(withNewton).status).not.toBe("not-binding");
  });

  // Paper profiles (5, seed 3) at capacity 5: with gamma 5 the newton rule used to certify "not
  // binding" at p = 0 (simulate() said so too) where the reference clears at p = 2.92.
  const profiles = paperProfiles(5, 3);
  function liveMarket(rule: "newton" | "gradient") {
    const contract = contractSchema.parse({
      name: "proximal",
      resources: [{ id: "capacity", capacity: 5 }],
      fees: { perUnit: 0.5, fixed: 0 },
      proximal: 5,
      priceRule: { kind: rule },
      minMembers: 5,
      timeouts: { roundMs: 2000, announceMs: 200 },
    });
    const net = new SimulatedNetwork({ contract, seed: 11 });
    const nodes: SimNode[] = profiles.map((p, i) => net.addAgent(`n${i}`, p));
    const certified = () => nodes.every((n) => n.machine.status().certificate !== null);
    expect(net.runUntil(certified, 600_000)).toBe(true);
    const reference = solveReference(
      scenarioSchema.parse({ contract, agents: nodes.map((n, i) => ({ id: n.id, ...profiles[i] })) }),
    );
    expect(reference.prices[0]).toBeGreaterThan(2);
    return { certificate: nodes[0]?.machine.status().certificate ?? null, reference };
  }

  it("five live members under the gradient rule certify the reference equilibrium", () => {
    const { certificate, reference } = liveMarket("gradient");
    expect(certificate?.commit.approximate).toBeUndefined();
    expect(certificate?.commit.prices[0]).toBeCloseTo(reference.prices[0] as number, 6);
    for (const a of reference.allocations)
      expect(certificate?.commit.allocations.find((c) => c.agent === a.agent)?.x).toBeCloseTo(a.x, 5);
  });

  it("five live members under the newton rule certify no equilibrium other than the reference's", () => {
    const { certificate, reference } = liveMarket("newton");
    if (certificate?.commit.approximate) return;
    expect(certificate?.commit.prices[0]).toBeCloseTo(reference.prices[0] as number, 6);
  });
});
