import type { Contract } from "../wire/contract.ts";
import { WIRE_NUMBER_BOUND } from "../wire/protocol-numbers.ts";
import { aggregateSupply, measureResidual } from "./residual.ts";

/** One member's demand as a commit records it. */
export interface SettledEntry {
  readonly agent: string;
  readonly x: number;
  readonly footprint: readonly number[];
}

/** A round an epoch settles on: its prices, its demands in member order, and its residual. */
export interface SettledRound<E extends SettledEntry> {
  readonly prices: readonly number[];
  readonly demands: readonly E[];
  readonly residual: number;
}

/**
 * The allocations an epoch commits, and their residual. An exact equilibrium commits the round's
 * demands as they are. An approximate one (the stall rule gave up) commits them too when they fit
 * capacity; when even the best round over-uses a resource (its clearing price lies beyond the
 * price bound, or a member's demands never settled), every demand is scaled by the same factor
 * min_r m_r / S_r over the over-used resources (proportional rationing), so that the certificate
 * still certifies an allocation that fits. The factor comes from the signed demands alone: every
 * node commits the same bits.
 */
export function settledAllocations<E extends SettledEntry>(
  contract: Contract,
  round: SettledRound<E>,
  approximate: boolean,
): { allocations: SettledEntry[]; residual: number } {
  const entries = round.demands.map((d) => ({ agent: d.agent, x: d.x, footprint: d.footprint }));
  if (!approximate) return { allocations: entries, residual: round.residual };
  const supply = aggregateSupply(contract.resources.length, entries);
  let factor = 1;
  contract.resources.forEach((r, i) => {
    const s = supply[i] as number;
    if (s > r.capacity) factor = Math.min(factor, r.capacity / s);
  });
  if (factor === 1) return { allocations: entries, residual: publishedResidual(round.residual) };
  const rationed = entries.map((e) => ({ ...e, x: e.x * factor }));
  return {
    allocations: rationed,
    residual: publishedResidual(measureResidual(contract, round.prices, rationed)),
  };
}

/**
 * The residual a commit carries: at most the wire's number bound, as every number a message
 * carries. An approximate round can leave a larger one (a supplier's output over a small
 * capacity: |S_r - m_r| / m_r up to ~1e40); past 1e12 it says no more than "far from clearing",
 * and a larger one would be refused by every node. An exact one is at most eps_p <= 1.
 */
export function publishedResidual(residual: number): number {
  return Math.min(residual, WIRE_NUMBER_BOUND);
}
