import { minimiseBoxQuadratic } from "./box-quadratic.ts";
import { PRICE_CEILING } from "./price-ceiling.ts";
import type { PackedDemands } from "./price-rule.ts";

/*
 * The newton rule's quadratic model of the market's dual, shared by its two models (hinge-model.ts,
 * sums-model.ts): the decrease 1/2 d'Hd - b'd for a price move d, and its minimiser over the trust
 * region's box.
 */

/**
 * Relative regularisation of H: keeps the box problem strictly convex (so that it has one
 * solution) while changing Newton's step by about this share only.
 */
const REGULARISATION = 1e-13;

export interface ModelStep {
  /** The price move from the anchor. */
  readonly d: number[];
  /** The decrease of the market's dual the model predicts for it (>= 0). */
  readonly predicted: number;
}

/** The box a step from `prices` stays in: prices within [0, 1e12], each move within its radius. */
export function stepBox(
  prices: readonly number[],
  radius: readonly number[],
): { lower: number[]; upper: number[] } {
  return {
    lower: prices.map((p, r) => -Math.min(p, radius[r] as number)),
    upper: prices.map((p, r) => Math.max(0, Math.min(radius[r] as number, PRICE_CEILING - p))),
  };
}

/**
 * H = sum |s_i| a_i a_i' and b = S - m - sum a_i x_i over the members in the market at the anchor
 * and not taken `out`: the quadratic model 1/2 d'Hd - b'd of the dual's decrease. Recomputed from
 * scratch (not by subtraction), so H stays exactly positive semidefinite.
 */
export function quadraticPiece(
  R: number,
  excess: readonly number[],
  demands: PackedDemands,
  c: ArrayLike<number>,
  s: ArrayLike<number>,
  out: Uint8Array,
): { H: Float64Array; b: Float64Array } {
  const H = new Float64Array(R * R);
  const b = Float64Array.from(excess);
  const { footprint } = demands;
  for (let i = 0; i < demands.count; i++) {
    if (!((c[i] as number) > 0)) continue;
    const row = i * R;
    if (out[i]) {
      const x = c[i] as number;
      for (let r = 0; r < R; r++) b[r] = (b[r] as number) - (footprint[row + r] as number) * x;
      continue;
    }
    const w = -(s[i] as number);
    if (w === 0) continue;
    for (let r = 0; r < R; r++) {
      const ar = footprint[row + r] as number;
      if (ar === 0) continue;
      for (let t = 0; t < R; t++)
        H[r * R + t] = (H[r * R + t] as number) + w * ar * (footprint[row + t] as number);
    }
  }
  return { H, b };
}

/** minimise 1/2 d'Hd - b'd over the box, H regularised to be strictly convex. */
export function minimiseModel(
  R: number,
  { H, b }: { H: Float64Array; b: Float64Array },
  lower: readonly number[],
  upper: readonly number[],
  radius: readonly number[],
): number[] {
  // Q = H + mu, each resource on its own scale: relative to its diagonal, plus a floor from its
  // own pull |b_r| / radius_r that makes a direction nobody prices (H_rr = 0) run to the edge of
  // its region rather than divide by zero. One floor for all (from the largest diagonal) would
  // swamp the curvature of a resource priced by few, small or unresponsive members beside one
  // priced by large ones, and cut its steps to a crawl.
  let pull = 0;
  for (let r = 0; r < R; r++)
    if ((radius[r] as number) > 0) pull = Math.max(pull, Math.abs(b[r] as number) / (radius[r] as number));
  let diagonal = 0;
  for (let r = 0; r < R; r++) diagonal = Math.max(diagonal, H[r * R + r] as number);
  // A resource with neither curvature nor pull (its row of H is 0, its step 0) takes the floor of
  // the whole: any positive value keeps the box problem strictly convex.
  const floor = REGULARISATION * (pull + diagonal);
  if (!(floor > 0 && Number.isFinite(floor))) return new Array<number>(R).fill(0);
  const Q = Float64Array.from(H);
  for (let r = 0; r < R; r++) {
    const h = H[r * R + r] as number;
    const rho = radius[r] as number;
    const own = REGULARISATION * (h + (rho > 0 ? Math.abs(b[r] as number) / rho : 0));
    Q[r * R + r] = h * (1 + REGULARISATION) + (own > 0 ? own : floor);
  }
  return minimiseBoxQuadratic(Q, b, lower, upper, R);
}
