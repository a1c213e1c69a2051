import type { ScenarioAgent } from "../src/economics/agent.ts";
import { bestResponse } from "../src/economics/best-response.ts";
import type { SimulationResult } from "../src/economics/equilibrium.ts";
import { solveReference } from "../src/economics/reference-solver.ts";
import type { Scenario } from "../src/economics/scenario.ts";

/**
 * Checks an engine result against the equilibrium conditions and against the independent
 * reference solver, to 1e-6; throws an Error naming the first violation. Shared by the property
 * tests and the long run (`pnpm fuzz:markets`), which has no test runner's expect.
 */
export function checkEquilibrium(scenario: Scenario, result: SimulationResult): void {
  if (result.status === "round-limit" || result.status === "stalled")
    fail(`no convergence in ${result.rounds} rounds: residual ${result.residual}; ${result.note ?? ""}`);
  const { contract } = scenario;
  const prices = result.prices;
  // 1. Every allocation is the agent's (non-proximal) best response at p*.
  const byId = new Map(scenario.agents.map((a) => [a.id, a]));
  const supply = new Array<number>(contract.resources.length).fill(0);
  for (const { agent, x } of result.allocations) {
    const a = byId.get(agent) as ScenarioAgent;
    const br = bestResponse(a, contract, prices).x;
    if (!near(x, br, 1e-9, 1e-12)) fail(`${agent} reports ${x}, its best response at p* is ${br}`);
    a.footprint.forEach((v, r) => {
      supply[r] = (supply[r] as number) + v * x;
    });
  }
  // 2. Complementary slackness, from the allocations themselves.
  contract.resources.forEach((res, r) => {
    const s = supply[r] as number;
    const p = prices[r] as number;
    if (!(p >= 0)) fail(`price ${r} is ${p}`);
    if (s > res.capacity * (1 + 1e-6)) fail(`resource ${r} over capacity: ${s} > ${res.capacity}`);
    if (p > 0 && Math.abs(s - res.capacity) / res.capacity > 1e-6)
      fail(`resource ${r} priced at ${p} does not clear: ${s} vs ${res.capacity}`);
  });
  // 3. Agreement with the independent reference solver.
  const ref = solveReference(scenario);
  if (ref.status === "approximate")
    fail(`the reference found no exact equilibrium (residual ${ref.residual})`);
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
      const atRef = bestResponse(byId.get(agent) as ScenarioAgent, contract, ref.prices).x;
      if (!near(atRef, x, 1e-6, 1e-7))
        fail(`prices ${prices} vs the reference's ${ref.prices}: ${agent} ${x} vs ${atRef}`);
    }
  }
  result.allocations.forEach((al, i) => {
    const rx = ref.allocations[i];
    if (rx?.agent !== al.agent) fail(`allocation ${i} is ${al.agent}, the reference's ${rx?.agent}`);
    if (!near(al.x, rx.x, 1e-6, 1e-7)) fail(`x of ${al.agent}: ${al.x} vs the reference's ${rx.x}`);
  });
  if (result.status === "not-binding" && ref.status !== "not-binding")
    fail(`engine says not binding, the reference's prices are ${ref.prices}`);
}

function near(actual: number, expected: number, rel: number, floor: number): boolean {
  return Math.abs(actual - expected) <= rel * Math.abs(expected) + floor;
}

function fail(message: string): never {
  throw new Error(message);
}
