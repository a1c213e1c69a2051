import { createPrng, shuffled } from "../../random/prng.ts";
import { bestResponse, payoff } from "../best-response.ts";
import type { Scenario } from "../scenario.ts";
import type { MechanismOutcome } from "./outcome.ts";

/**
 * First come, first served, with no enforcement: agents arrive in a uniformly random order (seeded)
 * and each takes its unconstrained best response at zero prices (it still pays tau and g) while
 * capacity lasts. The agent that finds less left than it wants takes what is left, if that is worth
 * its fixed fee (payoff >= 0), and otherwise stays out, leaving the remainder to the next arrival.
 * Once a resource is exhausted, later agents that need it get nothing.
 */
export function allocateFcfs(scenario: Scenario, seed: number): MechanismOutcome {
  const { contract } = scenario;
  const zeros = contract.resources.map(() => 0);
  const remaining = contract.resources.map((r) => r.capacity);
  const granted = new Map<string, number>();
  for (const agent of shuffled(createPrng(seed), scenario.agents)) {
    const wanted = bestResponse(agent, contract, zeros).x;
    let x = Math.min(wanted, room(agent.footprint, remaining));
    if (x < wanted && x > 0 && payoff(agent, contract, zeros, x) < 0) x = 0;
    agent.footprint.forEach((a, r) => {
      remaining[r] = Math.max(0, (remaining[r] ?? 0) - a * x);
    });
    granted.set(agent.id, x);
  }
  return {
    mechanism: "fcfs",
    prices: zeros,
    allocations: scenario.agents.map((agent) => ({ agent: agent.id, x: granted.get(agent.id) ?? 0 })),
  };
}

/** The largest activity level whose footprint fits in what remains. */
function room(footprint: readonly number[], remaining: readonly number[]): number {
  let x = Number.POSITIVE_INFINITY;
  footprint.forEach((a, r) => {
    if (a > 0) x = Math.min(x, (remaining[r] ?? 0) / a);
  });
  return Math.max(0, x);
}
