import { lg, lgInverse } from "./binary-log.ts";
import type { NewtonAnchor } from "./newton-rule.ts";
import { PRICE_CEILING } from "./price-ceiling.ts";
import type { PackedDemands } from "./price-rule.ts";

/**
 * The newton rule's trust region is a box of fixed shape in curvature units: resource r may move
 * by Delta / D_r, D_r = sqrt(H_rr) with H = sum_i |s_i| a_i a_i' over the members in the market at
 * the anchor (the model's own diagonal, as in Moré's scaled trust region). A move of Delta / D_r
 * changes the model's dual by about Delta^2 / 2 whatever the resource's units, so resources whose
 * prices differ by decades (litres beside megawatts, households beside factories) each get room
 * on their own scale, where one absolute box is too small for one and too large for another.
 * Accepting, widening and shrinking act on Delta exactly as on the unscaled box (newton-rule.ts).
 */

/**
 * D at the anchor from the members' verified slopes. A resource no member in the market prices
 * keeps its last D, or else takes the smallest D of the others: the widest room of any priced
 * resource, not an unbounded one. null while no member in the market responds at all (and no D was
 * known): then the box keeps its shape.
 */
export function regionMetric(
  base: NewtonAnchor,
  demands: PackedDemands,
  slopes: ArrayLike<number>,
  R: number,
  previous: readonly number[] | null,
): number[] | null {
  const diagonal = new Array<number>(R).fill(0);
  const { footprint } = demands;
  for (let i = 0; i < demands.count; i++) {
    if (!((base.x[i] as number) > 0)) continue;
    const w = -(slopes[i] as number);
    if (w === 0) continue;
    for (let r = 0; r < R; r++) {
      const a = footprint[i * R + r] as number;
      diagonal[r] = (diagonal[r] as number) + w * a * a;
    }
  }
  let smallest = Number.POSITIVE_INFINITY;
  const metric = diagonal.map((h, r) => {
    const d = h > 0 ? Math.sqrt(h) : ((previous?.[r] as number | undefined) ?? 0);
    if (d > 0 && d < smallest) smallest = d;
    return d;
  });
  if (!Number.isFinite(smallest)) return previous === null ? null : [...previous];
  return metric.map((d) => (d > 0 ? d : smallest));
}

/**
 * The first region in these units: the rule's one-size box (every radius `radius[r]` alike) with
 * Delta set so that the geometric mean of the radii is about unchanged, the stiffer resources
 * narrower and the softer ones wider. The mean is taken with lg and its inverse (within ~6% of
 * the geometric mean), not Math.log and Math.exp, which engines and libms round differently: nodes
 * that shaped their first box differently would compute different prices.
 */
export function firstRegionShaped(radius: readonly number[], metric: readonly number[]): number[] {
  let lgSum = 0;
  for (const d of metric) lgSum += lg(d);
  const mean = lgInverse(lgSum / metric.length);
  return radius.map((rho, r) => Math.min(PRICE_CEILING, (rho * mean) / (metric[r] as number)));
}

/** The same Delta under the new anchor's metric: radius_r scaled by D_r(before) / D_r(now). */
export function regionFollowingMetric(
  radius: readonly number[],
  before: readonly number[] | null,
  now: readonly number[],
): number[] {
  if (before === null) return [...radius];
  return radius.map((rho, r) => {
    const scaled = (rho * (before[r] as number)) / (now[r] as number);
    return scaled > 0 && Number.isFinite(scaled) ? Math.min(PRICE_CEILING, scaled) : rho;
  });
}
