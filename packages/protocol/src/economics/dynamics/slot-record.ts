import type { SimulationStatus } from "../equilibrium.ts";
import { computeMetrics } from "../metrics.ts";
import {
  type ReferenceSolution,
  type ReferenceStatus,
  solveReference,
  type WelfareOptimum,
  welfareOptimum,
} from "../reference-solver.ts";
import type { Scenario } from "../scenario.ts";
import { type SlotMarket, type SlotTerms, slotTerms } from "./slot-market.ts";

/**
 * What one slot cleared to, however it was cleared: by the engine (run-slots.ts) or by a live
 * network, whose certificate for the slot gives the same fields (certified-slot.ts).
 */
export interface SlotOutcome {
  /** The prices round 0 of the slot answered: the previous slot's (warm start) or the contract's. */
  readonly startPrices: readonly number[];
  readonly prices: readonly number[];
  readonly allocations: readonly { readonly agent: string; readonly x: number }[];
  /** Demand rounds the slot took. */
  readonly rounds: number;
  /** The engine's statuses, and "approximate" for a certificate that says no price cleared exactly. */
  readonly status: SimulationStatus | "approximate";
}

/**
 * The independent answer for one slot's market (reference-solver.ts): the equilibrium without the
 * protocol's iteration, and the welfare optimum. Computed once per slot and shared by every run of
 * that slot (warm and cold start, engine and network).
 */
export interface SlotReference {
  readonly solution: ReferenceSolution;
  readonly optimum: WelfareOptimum;
}

export function slotReference(scenario: Scenario): SlotReference {
  return { solution: solveReference(scenario), optimum: welfareOptimum(scenario) };
}

/** One slot, measured: the row of the dynamics tables and the points of its plots. */
export interface SlotRecord {
  readonly slot: number;
  readonly terms: SlotTerms;
  /** Agents present. */
  readonly agents: number;
  readonly joined: number;
  readonly left: number;
  readonly startPrices: readonly number[];
  readonly prices: readonly number[];
  readonly rounds: number;
  readonly status: SlotOutcome["status"];
  /** The paper's efficiency Eff (metrics.ts), with the fees counted as a cost. */
  readonly efficiency: number;
  /** Eff at the slot's welfare optimum. */
  readonly optimum: number;
  /** (optimum - Eff) / |optimum|. */
  readonly relativeWelfareGap: number;
  readonly gini: number;
  readonly participation: number;
  /** The stopping rule's relative residual at the outcome. */
  readonly residual: number;
  readonly reference: {
    readonly status: ReferenceStatus;
    readonly prices: readonly number[];
    /** max_r |p_r - p_ref_r|: how far the outcome's prices are from the reference solver's. */
    readonly priceDeviation: number;
    /** "exact", or "approximate" (g > 0 with more than EXACT_SEARCH_AGENTS agents: a local optimum). */
    readonly optimumStatus: WelfareOptimum["status"];
  };
}

/** Scores a slot's outcome against the slot's reference; the same function for engine and network runs. */
export function measureSlot(
  market: SlotMarket,
  outcome: SlotOutcome,
  reference: SlotReference = slotReference(market.scenario),
): SlotRecord {
  const metrics = computeMetrics(market.scenario, outcome, { optimum: reference.optimum.welfare });
  const refPrices = reference.solution.prices;
  if (outcome.prices.length !== refPrices.length)
    throw new RangeError(
      `slot ${market.slot}: ${outcome.prices.length} prices for ${refPrices.length} resources`,
    );
  return {
    slot: market.slot,
    terms: slotTerms(market.scenario),
    agents: market.scenario.agents.length,
    joined: market.joined.length,
    left: market.left.length,
    startPrices: [...outcome.startPrices],
    prices: [...outcome.prices],
    rounds: outcome.rounds,
    status: outcome.status,
    efficiency: metrics.efficiency,
    optimum: reference.optimum.welfare,
    relativeWelfareGap: metrics.relativeWelfareGap ?? Number.NaN,
    gini: metrics.gini,
    participation: metrics.participation,
    residual: metrics.residual,
    reference: {
      status: reference.solution.status,
      prices: refPrices,
      priceDeviation: Math.max(0, ...outcome.prices.map((p, r) => Math.abs(p - (refPrices[r] as number)))),
      optimumStatus: reference.optimum.status,
    },
  };
}
