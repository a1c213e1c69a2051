import type { Contract } from "../wire/contract.ts";
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
  if (factor === 1) return { allocations: entries, residual: round.residual };
  const rationed = entries.map((e) => ({ ...e, x: e.x * factor }));
  return { allocations: rationed, residual: measureResidual(contract, round.prices, rationed) };
}
