import type { MarketOutcome } from "../metrics.ts";

/** The four allocation mechanisms the paper compares (docs/economics.md §Baselines). */
export type Mechanism = "fcfs" | "proportional" | "flat" | "contract";
export const MECHANISMS: readonly Mechanism[] = ["fcfs", "proportional", "flat", "contract"];

export interface MechanismOutcome extends MarketOutcome {
  readonly mechanism: Mechanism;
}
