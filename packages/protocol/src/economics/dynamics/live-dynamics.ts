import { type Summary, summarise } from "../experiment.ts";
import type { CertifiedSlot } from "./ledger-slots.ts";
import { runSlots } from "./run-slots.ts";
import { sameTermsAndMembers } from "./slot-market.ts";
import { measureSlot, type SlotRecord, type SlotRun, slotReference } from "./slot-record.ts";

/** One certified slot of a live run, measured, beside the engine clearing the same market. */
export interface LiveDynamicsSlot extends SlotRecord {
  readonly epoch: number;
  /** The terms and the membership are the previous slot's (only bids may have changed). */
  readonly quiet: boolean;
  /** The engine (run-slots.ts, warm start) on the same sequence of markets. */
  readonly engine: SlotRun;
}

/** Rounds per slot on the network and on the engine, over a class of slots. */
export interface LiveRoundsSummary {
  readonly slots: number;
  readonly network: Summary & { readonly max: number };
  readonly engine: Summary & { readonly max: number };
}

export interface LiveDynamics {
  readonly slots: readonly LiveDynamicsSlot[];
  /** Slots after the first whose terms and members did not change, that cleared exactly on both. */
  readonly quiet: LiveRoundsSummary;
  /** Slots after the first at which the terms or the members changed; likewise. */
  readonly changed: LiveRoundsSummary;
  /** Certificates that say no price cleared exactly (the stall rule settled them). */
  readonly approximate: number;
  /** Largest |p - p_ref| of the network over the slots where the reference clears exactly. */
  readonly maxPriceDeviation: number;
}

/**
 * Scores every certified slot of a live run against the reference solver for its own terms,
 * members and bids, and clears the same markets on the engine (warm-started, with each slot's
 * contract round limit) for the comparison of rounds. The network's numbers are judged only by the
 * reference, never by the engine.
 */
export function measureLiveDynamics(certified: readonly CertifiedSlot[]): LiveDynamics {
  const markets = certified.map((c) => c.market);
  const engine = runSlots(markets, { start: "warm" });
  const slots = certified.map((c, i): LiveDynamicsSlot => {
    const reference = slotReference(c.market.scenario);
    const previous = markets[i - 1];
    const onEngine = measureSlot(c.market, engine[i] as (typeof engine)[number], reference);
    return {
      ...measureSlot(c.market, c.outcome, reference),
      epoch: c.epoch,
      quiet: previous !== undefined && sameTermsAndMembers(c.market, previous),
      engine: {
        rounds: onEngine.rounds,
        status: onEngine.status,
        priceDeviation: onEngine.reference.priceDeviation,
      },
    };
  });
  const after = slots.slice(1).filter((s) => s.status === "converged" && s.engine.status === "converged");
  return {
    slots,
    quiet: roundsSummary(after.filter((s) => s.quiet)),
    changed: roundsSummary(after.filter((s) => !s.quiet)),
    approximate: slots.filter((s) => s.status === "approximate").length,
    maxPriceDeviation: Math.max(
      0,
      ...slots.filter((s) => s.reference.status !== "approximate").map((s) => s.reference.priceDeviation),
    ),
  };
}

function roundsSummary(slots: readonly LiveDynamicsSlot[]): LiveRoundsSummary {
  const network = slots.map((s) => s.rounds);
  const engine = slots.map((s) => s.engine.rounds);
  return {
    slots: slots.length,
    network: { ...summarise(network), max: Math.max(0, ...network) },
    engine: { ...summarise(engine), max: Math.max(0, ...engine) },
  };
}
