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
 * How far the proximal term still pulls: max over resources of sum_i |a_ir| |x_i^k - x_i^(k-1)| / m_r,
 * the supply the members' last moves shifted, relative to capacity (the residual's units). A
 * proximal demand (gamma > 0) satisfies V'(x^k) - cost'(x^k) - u = gamma (x^k - x^(k-1)): it is the
 * member's best response at p^k only once it stops moving. Without this test a market whose demand
 * at p = 0 is below capacity only because of the pull (the members still climbing toward their best
 * responses) met the residual and price tests at once and was reported "not binding" at p = 0; on
 * the paper's 50-agent market with gamma >= 1 that was most seeds. Infinity when it cannot be told
 * (no previous round, or another member set): such a round does not converge.
 */
export function proximalDrift(
  capacities: ArrayLike<number>,
  footprint: ArrayLike<number>,
  x: ArrayLike<number>,
  previous: ArrayLike<number> | null,
): number {
  const R = capacities.length;
  if (previous === null || previous.length !== x.length) return Number.POSITIVE_INFINITY;
  let worst = 0;
  for (let r = 0; r < R; r++) {
    let moved = 0;
    for (let i = 0; i < x.length; i++)
      moved +=
        Math.abs(footprint[i * R + r] as number) * Math.abs((x[i] as number) - (previous[i] as number));
    worst = Math.max(worst, moved / (capacities[r] as number));
  }
  return worst;
}

/**
 * Round k has converged when the demands reported at p^k leave a residual <= tolerance.residual
 * AND the rule's next step moves no price by more than tolerance.price (absolute, as in the
 * contract) AND, under a proximal contract (gamma > 0), the members' demands moved by at most
 * tolerance.residual in the residual's units since round k-1 (`proximalDrift`; 0 when gamma = 0).
 * The first two rules are judged by the same test. Newton's step shrinks quadratically with the
 * residual, so the default 1e-9 costs it about one extra round; the gradient rule's step is
 * eta*(S - m), so for it the price test is a residual test of eps_d/(eta m), and it is the tighter of
 * the two unless the contract relaxes tolerance.price.
 */
export function isConverged(contract: Contract, residual: number, change: number, drift = 0): boolean {
  return (
    residual <= contract.tolerance.residual &&
    change <= contract.tolerance.price &&
    (contract.proximal === 0 || drift <= contract.tolerance.residual)
  );
}
