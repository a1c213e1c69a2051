import type { PriceRule } from "../../wire/contract.ts";
import { simulate } from "../equilibrium.ts";
import type { SlotMarket } from "./slot-market.ts";
import type { SlotOutcome } from "./slot-record.ts";

/**
 * "warm": each slot's round 0 answers the previous slot's prices, as the network does when it
 * opens a new slot; "cold": every slot starts from the contract's initialPrices, as a network
 * that forgot its history would.
 */
export type SlotStart = "warm" | "cold";

export interface RunSlotsOptions {
  readonly start: SlotStart;
  /** Overrides every slot contract's price rule. */
  readonly rule?: PriceRule;
  /** Overrides every slot contract's round limit. */
  readonly maxRounds?: number;
}

/**
 * Clears the slots one after another with the network's own round loop (equilibrium.ts simulate:
 * the same best responses and price rule, in the same canonical order). A warm start only moves
 * the starting prices: the price rule's state (newton's damping and anchor) starts afresh in every
 * slot, as it does for every new market on the network.
 */
export function runSlots(markets: readonly SlotMarket[], options: RunSlotsOptions): SlotOutcome[] {
  const outcomes: SlotOutcome[] = [];
  let previous: readonly number[] | null = null;
  for (const market of markets) {
    const contract = market.scenario.contract;
    const startPrices = options.start === "warm" && previous !== null ? previous : contract.initialPrices;
    if (startPrices.length !== contract.resources.length)
      throw new RangeError(
        `slot ${market.slot}: ${contract.resources.length} resources, but the previous slot priced ${startPrices.length}`,
      );
    const result = simulate(
      { ...market.scenario, contract: { ...contract, initialPrices: [...startPrices] } },
      { rule: options.rule, maxRounds: options.maxRounds },
    );
    outcomes.push({
      startPrices: [...startPrices],
      prices: result.prices,
      allocations: result.allocations,
      rounds: result.rounds,
      status: result.status,
    });
    previous = result.prices;
  }
  return outcomes;
}
