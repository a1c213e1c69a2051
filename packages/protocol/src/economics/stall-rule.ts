import type { Contract } from "../wire/contract.ts";
import { lg } from "./binary-log.ts";

/**
 * When an epoch stops looking for an exact equilibrium. Judged every round from the residuals
 * alone, which every node computes identically from the same demand sets, so every node stops at
 * the same round. The epoch then settles on its best round, flagged approximate with the reason.
 *
 * - "round-budget": the epoch has used its round budget: the contract's maxRounds, and for the
 *   newton rule at most NEWTON_ROUND_BUDGET (an honest newton epoch needs 5-30; see
 *   docs/economics.md), so no member can hold a market for longer than that.
 * - "too-slow": at the pace of the last stallWindow() rounds (the factor by which the best residual
 *   shrank), the best residual would not reach the contract's tolerance before the budget runs
 *   out. This is what a crawl looks like — a residual that keeps shrinking a little, which the
 *   old rule ("no new best for 50 rounds") never caught — as well as a plateau (no exact clearing
 *   price under a fixed fee) and a member whose demands oscillate.
 * - "price-ceiling": "too-slow", with some over-used resource priced at the protocol's price bound:
 *   the clearing price is not representable on the wire. Also at once, without waiting for the
 *   window, when the rule holds such a price still: it returned the very prices it was given
 *   (`held`), under a contract without a proximal term. Every later round would then repeat this
 *   one: the same prices give honest members the same demands, and a step of 0 is the model's
 *   minimiser whatever its curvature (each resource is cleared to within the rule's noise floor or
 *   pushes against a bound), so nothing the window would measure can change.
 */
export const STALL_REASONS = ["round-budget", "too-slow", "price-ceiling"] as const;
export type StallReason = (typeof STALL_REASONS)[number];

/**
 * Rounds over which the newton rule's pace is measured: more than an honest epoch has needed in
 * total (at most 23 rounds over 100,000 random markets, docs/economics.md), so an honest epoch is
 * not judged on its slow start before it finishes.
 */
export const STALL_WINDOW = 40;
/**
 * The gradient rule's window: a twentieth of its budget, within [STALL_WINDOW, this]. Its
 * residual is not monotone (a fixed step can overshoot on one resource while another catches up)
 * and shrinks by a small factor per round, so a short window would mistake it for a stall.
 */
export const MAX_STALL_WINDOW = 1000;
/** The newton rule's round budget per epoch (the contract's maxRounds applies when smaller). */
export const NEWTON_ROUND_BUDGET = 200;

/** What the rule remembers: the best residual after each of the last stallWindow() + 1 rounds. */
export interface ProgressTrack {
  readonly best: readonly number[];
}

export const initialProgress: ProgressTrack = { best: [] };

export function stallWindow(contract: Contract): number {
  if (contract.priceRule.kind === "newton") return STALL_WINDOW;
  return Math.min(MAX_STALL_WINDOW, Math.max(STALL_WINDOW, Math.floor(roundBudget(contract) / 20)));
}

export function roundBudget(contract: Contract): number {
  return contract.priceRule.kind === "newton"
    ? Math.min(contract.maxRounds, NEWTON_ROUND_BUDGET)
    : contract.maxRounds;
}

export interface ProgressJudgement {
  readonly track: ProgressTrack;
  /** null: keep going. */
  readonly stall: StallReason | null;
}

/**
 * Round `round` (0-based, counted from the epoch's start) closed with `residual`. `atCeiling` says
 * whether an over-used resource is priced at the price bound; `held`, whether the rule's next
 * prices are this round's, bit for bit. Pure: the same inputs give the same judgement on every node.
 */
export function judgeProgress(
  contract: Contract,
  track: ProgressTrack,
  round: number,
  residual: number,
  atCeiling: boolean,
  held = false,
): ProgressJudgement {
  const previous = track.best.at(-1);
  const best = previous === undefined ? residual : Math.min(previous, residual);
  const window = stallWindow(contract);
  const history = [...track.best, best].slice(-(window + 1));
  const next: ProgressTrack = { best: history };
  const remaining = roundBudget(contract) - (round + 1);
  if (remaining <= 0) return { track: next, stall: "round-budget" };
  const tolerance = contract.tolerance.residual;
  if (atCeiling && held && contract.proximal === 0 && best > tolerance)
    return { track: next, stall: "price-ceiling" };
  if (history.length <= window || best <= tolerance) return { track: next, stall: null };
  const then = history[0] as number;
  // At the pace of the window, can the best residual shrink by best / tolerance in what remains?
  // A proximal epoch's first round counts as the largest finite double (price-rule.ts): a ratio
  // that overflows is taken at that.
  const needed = lg(Math.min(best / tolerance, Number.MAX_VALUE));
  const achieved = (lg(Math.min(then / best, Number.MAX_VALUE)) / window) * remaining;
  if (achieved >= needed) return { track: next, stall: null };
  return { track: next, stall: atCeiling ? "price-ceiling" : "too-slow" };
}
