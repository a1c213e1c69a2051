import { bestResponse } from "../best-response.ts";
import type { Scenario } from "../scenario.ts";
import type { MechanismOutcome } from "./outcome.ts";
import { rationProportionally } from "./proportional-rationing.ts";

/**
 * A flat posted-price contract: one price per resource, the same for every agent, fixed before the
 * agents are known (it is not a clearing price). Each agent takes its best response at that price
 * (paying tau, g and the price); if that still over-subscribes a resource, requests are scaled down
 * proportionally as in allocateProportional.
 */
export function allocateFlatPrice(scenario: Scenario, prices: readonly number[]): MechanismOutcome {
  if (prices.length !== scenario.contract.resources.length)
    throw new RangeError(`expected ${scenario.contract.resources.length} prices, got ${prices.length}`);
  const demands = scenario.agents.map((agent) => bestResponse(agent, scenario.contract, prices).x);
  const granted = rationProportionally(scenario, demands);
  return {
    mechanism: "flat",
    prices: [...prices],
    allocations: scenario.agents.map((agent, i) => ({ agent: agent.id, x: granted[i] ?? 0 })),
  };
}

/**
 * The posted price a designer who knows only the type distribution would set for one resource: the
 * lowest p >= 0 at which expected aggregate demand is at most the capacity (0 when demand at p = 0
 * already fits). `expectedSupply` must be non-increasing in p. Bisection to 1e-9 relative.
 */
export function postedPriceFor(expectedSupply: (price: number) => number, capacity: number): number {
  if (expectedSupply(0) <= capacity) return 0;
  let lo = 0;
  let hi = 1;
  while (expectedSupply(hi) > capacity) {
    lo = hi;
    hi *= 2;
    if (hi > 1e12) throw new RangeError("expected supply does not fall below capacity at any price");
  }
  while (hi - lo > 1e-9 * Math.max(1, hi)) {
    const mid = (lo + hi) / 2;
    if (expectedSupply(mid) > capacity) lo = mid;
    else hi = mid;
  }
  return hi;
}
