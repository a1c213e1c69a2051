import { hingeLines, type MemberModel } from "./hinge-model.ts";
import type { NewtonAnchor } from "./newton-rule.ts";
import { PRICE_CEILING } from "./price-ceiling.ts";
import type { PackedDemands } from "./price-rule.ts";
import type { ModelStep } from "./quadratic-model.ts";

/** Halvings of [1, t_max] in the search for the curve model's minimiser along the step. */
export const CURVE_BISECTIONS = 60;
/** Intervals (even) of Simpson's rule for the decrease the curve model predicts. */
export const CURVE_SIMPSON_INTERVALS = 32;

/**
 * The newton rule's curve model (`priceRule.model: "curves"`): the hinge model's step, carried
 * further along its own direction where the members' demand curves say the market clears further
 * out.
 *
 * The hinge model lines each member's demand up along its slope. Demand curves are convex as a rule
 * (a log valuation's x = alpha/(q + c) - 1; a power valuation's), so a line from the anchor
 * under-predicts what a member still buys at a higher unit price, and Newton's step from below the
 * clearing price falls short of it every round: the paper's market took 6-7 rounds from p = 0. A
 * member seen at two unit prices — its demand x_b and verified slope s at the anchor q_b, its demand
 * x_o at the segment's other end q_o — fixes a hyperbola through both with that slope:
 *
 *   x(q_b + u) = x_b + s w u / (w + u),   w = -(x_o - x_b)(q_o - q_b) / (x_o - x_b - s (q_o - q_b)),
 *
 * used where w > 0 and finite (the member's curve lies above its tangent: convex) and only for u > 0
 * (its unit price rising; below the anchor the line, as the hinge model has it). Exact for a log
 * valuation with linear costs, so the paper's market clears in three rounds; a linear demand gives
 * a denominator 0 and keeps its line. Every other member keeps its hinge (hinge-model.ts), and each
 * demand is floored at 0.
 *
 * Along the hinge step d, g(t) = (S(anchor + t d) - m).d is -dD/dt of the market's dual, non-increasing
 * in t. With g(1) > 0 the model says the dual still falls at the step's end: the step becomes t* d,
 * t* the zero of g in [1, t_max] by bisection (t_max where the box of the trust region, or a price's
 * bound, stops it; t* = t_max when g stays positive up to there), and the model's decrease there,
 * the integral of g over [0, t*] by Simpson's rule, replaces the prediction if it is larger. The
 * trust region judges the result as any step (newton-rule.ts), so a member whose curve misleads
 * costs a rejected step, never a wrong price. Not used while any member at its activity cap reports
 * where it leaves it (cap-exit.ts; its hinge from above is not a curve), nor before a second
 * observation. Only + - * / and comparisons, in member order: every node computes the same bits.
 */
export function curveStep(
  R: number,
  base: NewtonAnchor,
  other: NewtonAnchor | null,
  excess: readonly number[],
  demands: PackedDemands,
  members: MemberModel,
  radius: readonly number[],
  step: ModelStep,
): ModelStep {
  if (other === null || anyExit(members.exitSlopes)) return step;
  const tMax = boxEnd(base.prices, radius, step.d);
  if (!(tMax > 1)) return step;
  let g0 = 0;
  for (let r = 0; r < R; r++) g0 += (step.d[r] as number) * (excess[r] as number);
  if (!(g0 > 0)) return step;
  const curves = memberCurves(R, base, other, demands, members, step.d);
  const g = (t: number): number => g0 + curves.change(t);
  if (!(g(1) > 0)) return step;
  let t = tMax;
  if (g(tMax) < 0) {
    let lo = 1;
    let hi = tMax;
    for (let k = 0; k < CURVE_BISECTIONS; k++) {
      const mid = 0.5 * (lo + hi);
      if (g(mid) > 0) lo = mid;
      else hi = mid;
    }
    t = lo;
  }
  const h = t / CURVE_SIMPSON_INTERVALS;
  let sum = g(0) + g(t);
  for (let k = 1; k < CURVE_SIMPSON_INTERVALS; k++) sum += (k % 2 === 1 ? 4 : 2) * g(k * h);
  const predicted = (sum * h) / 3;
  if (!(predicted > step.predicted)) return step;
  return { d: step.d.map((v) => v * t), predicted };
}

function anyExit(exitSlopes: ArrayLike<number> | null): boolean {
  if (exitSlopes === null) return false;
  for (let i = 0; i < exitSlopes.length; i++) if ((exitSlopes[i] as number) < 0) return true;
  return false;
}

/** The largest t for which anchor + t d stays in the trust region's box and within [0, 1e12]. */
function boxEnd(prices: readonly number[], radius: readonly number[], d: readonly number[]): number {
  let tMax = Number.POSITIVE_INFINITY;
  d.forEach((dr, r) => {
    const p = prices[r] as number;
    const rho = radius[r] as number;
    if (dr > 0) tMax = Math.min(tMax, Math.min(rho, PRICE_CEILING - p) / dr);
    else if (dr < 0) tMax = Math.min(tMax, Math.min(rho, p) / -dr);
  });
  return Number.isFinite(tMax) ? tMax : 0;
}

/**
 * Per member along d: delta_i = a_i.d, its hinge (c, s) and its hyperbola's w (0: none). `change(t)`
 * is sum_i delta_i (x_i(t delta_i) - max(0, c_i)): how far the market's excess along d has moved
 * from the anchor's at t.
 */
function memberCurves(
  R: number,
  base: NewtonAnchor,
  other: NewtonAnchor,
  demands: PackedDemands,
  members: MemberModel,
  d: readonly number[],
): { change: (t: number) => number } {
  const n = demands.count;
  const { footprint } = demands;
  const { c, s } = hingeLines(base, members, n);
  const delta = new Float64Array(n);
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let dq = 0;
    for (let r = 0; r < R; r++) dq += (footprint[i * R + r] as number) * (d[r] as number);
    delta[i] = dq;
    const xb = base.x[i] as number;
    const xo = other.x[i] as number;
    const si = s[i] as number;
    if (!(xb > 0 && xo > 0 && si < 0)) continue;
    const gap = (other.unitPrices[i] as number) - (base.unitPrices[i] as number);
    const denominator = xo - xb - si * gap;
    const wi = (-(xo - xb) * gap) / denominator;
    if (denominator > 0 && wi > 0 && Number.isFinite(wi)) w[i] = wi;
  }
  return {
    change: (t) => {
      let sum = 0;
      for (let i = 0; i < n; i++) {
        const di = delta[i] as number;
        if (di === 0) continue;
        const ci = c[i] as number;
        const si = s[i] as number;
        const wi = w[i] as number;
        const u = t * di;
        const x = wi > 0 && u > 0 ? ci + (si * wi * u) / (wi + u) : ci + si * u;
        // biome-ignore lint/complexity/useMathMinMax: a NaN counts as 0 here, as it always has (Math.max would carry it into every node's prices)
        sum += di * ((x > 0 ? x : 0) - (ci > 0 ? ci : 0));
      }
      return sum;
    },
  };
}
