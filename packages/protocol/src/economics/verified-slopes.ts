/**
 * Reported slopes checked against what the demands did. A member's demand depends on prices only
 * through its unit price q_i = tau + a_i.p, so between two rounds its observed response is the
 * secant sigma_i = (x_i' - x_i) / (q_i' - q_i) — a quantity it cannot misstate without misstating
 * x itself. Its reported slope d_i (the derivative at one end) is used when it agrees with the
 * secant to within SLOPE_BAND; otherwise the secant replaces it. Honest members near the
 * equilibrium always agree (the secant tends to the derivative), so the newton rule keeps its
 * quadratic convergence; a member that scales its slope by 1e6, 1e-6 or 0 is overruled by its own
 * demands after one step.
 */

/**
 * How far apart a reported slope and the observed secant may be before the secant wins. Wide
 * enough that an honest member's derivative and secant agree after a first step that moves its
 * unit price by up to this factor (log demand: their ratio is q'/q).
 */
export const SLOPE_BAND = 4;

/**
 * Below this relative change of the unit price the secant is rounding noise: the reported slope
 * stands. (x carries ~1e-16 relative error, so at 1e-12 the secant is still good to ~1e-4.)
 */
const MIN_RELATIVE_MOVE = 1e-12;

/**
 * The slope the rule uses for one member at one round: `slope`, the derivative it reported there
 * (at unit price q, with demand x), if the secant from an earlier round of the same member (q0,
 * x0) confirms it, else the secant. A secant pointing up (x rose with its price: no best response
 * does that, a proximal term or a lie can) counts as 0. Plain numbers in, one out: the rule calls
 * this for every member every round.
 */
export function verifiedSlope(q0: number, x0: number, q: number, x: number, slope: number): number {
  const dq = q - q0;
  const scale = Math.max(Math.abs(q), Math.abs(q0));
  if (!(Math.abs(dq) > MIN_RELATIVE_MOVE * scale)) return slope;
  const secant = Math.min(0, (x - x0) / dq);
  // Out of the market at the dearer end (x0 = 0, q0 > q): its demand reached 0 at or before q0, so
  // the secant only bounds the slope from one side: the slope at q is at least as steep.
  const steepest = x0 === 0 && dq < 0 ? Number.NEGATIVE_INFINITY : SLOPE_BAND * secant;
  // Both <= 0: the band is [SLOPE_BAND * secant, secant / SLOPE_BAND].
  if (slope >= steepest && slope <= secant / SLOPE_BAND) return slope;
  return secant;
}
