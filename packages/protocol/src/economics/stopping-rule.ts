import type { Contract } from "../wire/contract.ts";

/**
 * The complementary-slackness residual, relative to capacity: max over resources of
 * |S_r - m_r| / m_r where p_r > 0 (a priced resource must clear), and max(0, S_r - m_r) / m_r where
 * p_r = 0 (a free resource need only not be over-used).
 */
export function relativeResidual(
  supply: ArrayLike<number>,
  capacities: ArrayLike<number>,
  prices: ArrayLike<number>,
): number {
  let worst = 0;
  for (let r = 0; r < capacities.length; r++) {
    const m = capacities[r] as number;
    const excess = (supply[r] as number) - m;
    const e = (prices[r] as number) > 0 ? Math.abs(excess) : Math.max(0, excess);
    worst = Math.max(worst, e / m);
  }
  return worst;
}

/** Largest absolute price move between two rounds. */
export function priceChange(before: ArrayLike<number>, after: ArrayLike<number>): number {
  let worst = 0;
  for (let r = 0; r < before.length; r++)
    worst = Math.max(worst, Math.abs((after[r] as number) - (before[r] as number)));
  return worst;
}

/**
 * Round k has converged when the demands reported at p^k leave a residual <= tolerance.residual
 * AND the rule's next step moves no price by more than tolerance.price (absolute, as in the
 * contract). Both rules are judged by the same test. Newton's step shrinks quadratically with the
 * residual, so the default 1e-9 costs it about one extra round; the gradient rule's step is
 * eta*(S - m), so for it the price test is a residual test of eps_d/(eta m), and it is the tighter of
 * the two unless the contract relaxes tolerance.price.
 */
export function isConverged(contract: Contract, residual: number, change: number): boolean {
  return residual <= contract.tolerance.residual && change <= contract.tolerance.price;
}
