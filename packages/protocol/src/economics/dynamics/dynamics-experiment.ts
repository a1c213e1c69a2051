import { type Summary, summarise } from "../experiment.ts";
import { runSlots } from "./run-slots.ts";
import {
  type ResolvedShockSchedule,
  resolveShockSchedule,
  type ShockScheduleOptions,
  shockSchedule,
} from "./shock-schedule.ts";
import { sameTermsAndMembers } from "./slot-market.ts";
import { measureSlot, noExactPrice, type SlotRecord, type SlotRun, slotReference } from "./slot-record.ts";

export interface DynamicsExperimentOptions extends ShockScheduleOptions {
  /**
   * Round limit per slot. With g > 0 a slot may have no exactly clearing price; the engine then
   * reports its best round at the limit (the network settles earlier, on its stall rule).
   */
  readonly maxRounds?: number;
}

export interface ResolvedDynamicsOptions extends ResolvedShockSchedule {
  readonly maxRounds: number;
}

/** One slot of the experiment: the warm-started run's record, and what a cold start took. */
export interface DynamicsSlot extends SlotRecord {
  /** The terms and the membership are the previous slot's (only the drift moved demand). */
  readonly quiet: boolean;
  readonly cold: SlotRun;
}

/** Rounds per slot under one start, over a class of slots. */
export interface RoundsSummary {
  readonly slots: number;
  readonly warm: Summary & { readonly max: number };
  readonly cold: Summary & { readonly max: number };
}

export interface DynamicsExperiment {
  readonly options: ResolvedDynamicsOptions;
  readonly slots: readonly DynamicsSlot[];
  /**
   * Slots after the first whose terms and membership did not change, among those that cleared
   * exactly under both starts (a slot without an exact price measures the stall rule, not the start).
   */
  readonly quiet: RoundsSummary;
  /** Slots after the first at which the terms or the membership changed; likewise. */
  readonly changed: RoundsSummary;
  /** Slots the engine settled on its best round (stalled or at the round limit), per start. */
  readonly noExactPrice: { readonly warm: number; readonly cold: number };
  /**
   * Of those, the slots where the reference solver clears exactly: an exact price existed and the
   * engine missed it. 0 unless the price rule failed; counted apart so that the engine's own
   * verdict is never the only word on whether a clearing price exists.
   */
  readonly missedExactPrice: { readonly warm: number; readonly cold: number };
  /** Largest |p - p_ref| over the slots where the reference clears exactly. */
  readonly maxPriceDeviation: number;
}

/**
 * Runs one dynamic environment twice over the same slots, warm-started and cold-started, and
 * scores every slot against the reference solver. Deterministic in its options.
 */
export function runDynamicsExperiment(options: DynamicsExperimentOptions): DynamicsExperiment {
  const resolved: ResolvedDynamicsOptions = {
    ...resolveShockSchedule(options),
    maxRounds: options.maxRounds ?? 200,
  };
  if (!Number.isInteger(resolved.maxRounds) || resolved.maxRounds < 1)
    throw new RangeError("maxRounds must be an integer >= 1");
  const markets = shockSchedule(resolved);
  const limits = { rule: { kind: resolved.rule }, maxRounds: resolved.maxRounds } as const;
  const warm = runSlots(markets, { start: "warm", ...limits });
  const cold = runSlots(markets, { start: "cold", ...limits });
  const slots = markets.map((market, i): DynamicsSlot => {
    const reference = slotReference(market.scenario);
    const record = measureSlot(market, warm[i] as (typeof warm)[number], reference);
    const coldRecord = measureSlot(market, cold[i] as (typeof cold)[number], reference);
    const previous = markets[i - 1];
    return {
      ...record,
      quiet: previous !== undefined && sameTermsAndMembers(market, previous),
      cold: {
        rounds: coldRecord.rounds,
        status: coldRecord.status,
        priceDeviation: coldRecord.reference.priceDeviation,
      },
    };
  });
  // A slot that stalled (no exact clearing price: it ran until the stall rule stopped it) or hit
  // the round limit measures the stall rule, not the start.
  const after = slots.slice(1).filter((s) => s.status === "converged" && s.cold.status === "converged");
  return {
    options: resolved,
    slots,
    quiet: roundsSummary(after.filter((s) => s.quiet)),
    changed: roundsSummary(after.filter((s) => !s.quiet)),
    noExactPrice: {
      warm: slots.filter((s) => noExactPrice(s.status)).length,
      cold: slots.filter((s) => noExactPrice(s.cold.status)).length,
    },
    missedExactPrice: {
      warm: slots.filter((s) => noExactPrice(s.status) && s.reference.status !== "approximate").length,
      cold: slots.filter((s) => noExactPrice(s.cold.status) && s.reference.status !== "approximate").length,
    },
    maxPriceDeviation: Math.max(
      0,
      ...slots
        .filter((s) => s.reference.status !== "approximate")
        .flatMap((s) => [s.reference.priceDeviation, s.cold.priceDeviation]),
    ),
  };
}

function roundsSummary(slots: readonly DynamicsSlot[]): RoundsSummary {
  const warm = slots.map((s) => s.rounds);
  const cold = slots.map((s) => s.cold.rounds);
  return {
    slots: slots.length,
    warm: { ...summarise(warm), max: Math.max(0, ...warm) },
    cold: { ...summarise(cold), max: Math.max(0, ...cold) },
  };
}
