import type { Scenario } from "../scenario.ts";

/**
 * Scales every demand by one factor k = min over over-subscribed resources of m_r / S_r (1 when no
 * resource is over-subscribed), so that S_r <= m_r everywhere. Everyone keeps the same share of
 * what they asked for; nobody is dropped and nobody opts out after the cut.
 */
export function rationProportionally(scenario: Scenario, demands: readonly number[]): number[] {
  let factor = 1;
  scenario.contract.resources.forEach((resource, r) => {
    let supply = 0;
    scenario.agents.forEach((agent, i) => {
      supply += (agent.footprint[r] ?? 0) * (demands[i] ?? 0);
    });
    if (supply > resource.capacity) factor = Math.min(factor, resource.capacity / supply);
  });
  return demands.map((x) => x * factor);
}
