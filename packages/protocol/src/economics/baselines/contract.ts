import type { PriceRule } from "../../wire/contract.ts";
import { type SimulationStatus, simulate } from "../equilibrium.ts";
import type { Scenario } from "../scenario.ts";
import type { MechanismOutcome } from "./outcome.ts";

export interface ContractOutcome extends MechanismOutcome {
  readonly mechanism: "contract";
  readonly status: SimulationStatus;
  readonly rounds: number;
}

/** The proposed mechanism: the contract equilibrium that the price rule reaches (equilibrium.ts simulate). */
export function allocateContract(
  scenario: Scenario,
  options: { readonly rule?: PriceRule; readonly maxRounds?: number } = {},
): ContractOutcome {
  const result = simulate(scenario, options);
  return {
    mechanism: "contract",
    prices: result.prices,
    allocations: result.allocations,
    status: result.status,
    rounds: result.rounds,
  };
}
