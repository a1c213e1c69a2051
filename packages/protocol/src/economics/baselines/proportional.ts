import { bestResponse } from "../best-response.ts";
import type { Scenario } from "../scenario.ts";
import type { MechanismOutcome } from "./outcome.ts";
import { rationProportionally } from "./proportional-rationing.ts";

/**
 * Proportional rationing: every agent asks for its best response at zero prices (it still pays the
 * contract's tau and g), and if that over-subscribes a resource every request is scaled down by the
 * same factor until it fits. No prices are charged.
 */
export function allocateProportional(scenario: Scenario): MechanismOutcome {
  const zeros = scenario.contract.resources.map(() => 0);
  const demands = scenario.agents.map((agent) => bestResponse(agent, scenario.contract, zeros).x);
  const granted = rationProportionally(scenario, demands);
  return {
    mechanism: "proportional",
    prices: zeros,
    allocations: scenario.agents.map((agent, i) => ({ agent: agent.id, x: granted[i] ?? 0 })),
  };
}
