import type { Scenario } from "../scenario.ts";

/**
 * One slot of a market that runs over time (issue 12): the contract terms in force and the agents
 * present, with their private profiles, as a Scenario; and who arrived or left at the slot's
 * boundary. Built by a schedule (shock-schedule.ts) for the engine, or from a devnet's own record
 * of what it gave its nodes for a live run.
 */
export interface SlotMarket {
  /** 0-based position in the run. */
  readonly slot: number;
  readonly scenario: Scenario;
  /** Agents present in this slot and not in the previous one (every agent, in slot 0). */
  readonly joined: readonly string[];
  /** Agents present in the previous slot and not in this one. */
  readonly left: readonly string[];
}

/** The contract terms a shock can change: capacity per resource and the two fees. */
export interface SlotTerms {
  readonly capacities: readonly number[];
  /** tau. */
  readonly perUnit: number;
  /** g. */
  readonly fixed: number;
}

export function slotTerms(scenario: Scenario): SlotTerms {
  const c = scenario.contract;
  return {
    capacities: c.resources.map((r) => r.capacity),
    perUnit: c.fees.perUnit,
    fixed: c.fees.fixed,
  };
}

/** The terms and membership are those of the previous slot (profiles may still have drifted). */
export function sameTermsAndMembers(market: SlotMarket, previous: SlotMarket): boolean {
  const a = slotTerms(market.scenario);
  const b = slotTerms(previous.scenario);
  return (
    market.joined.length === 0 &&
    market.left.length === 0 &&
    a.perUnit === b.perUnit &&
    a.fixed === b.fixed &&
    a.capacities.length === b.capacities.length &&
    a.capacities.every((m, r) => m === b.capacities[r])
  );
}
