import type { NewtonAnchor } from "./newton-rule.ts";
import type { PackedDemands } from "./price-rule.ts";
import { type ModelStep, minimiseModel, quadraticPiece, stepBox } from "./quadratic-model.ts";

/**
 * The newton rule's `sums` model: the step from the market's sums alone, the excess b = S - m and
 * H = sum_i |s_i| a_i a_i' over the members in the market (x_i > 0) with their verified slopes.
 * It minimises 1/2 d'Hd - b'd over the trust region's box and predicts that decrease.
 *
 * The hinge model (hinge-model.ts) cuts the step where members leave or enter along it, which
 * needs every member's demand, slope and entry price once the step's direction is known. Under
 * committee aggregation (docs/scaling.md §2) a node never holds those: it holds S and H summed per
 * committee. This model asks only for what aggregates carry, and lets the trust region (accept or
 * step back) deal with the kinks the hinge walk would have stopped at.
 */
export function sumsStep(
  R: number,
  base: NewtonAnchor,
  excess: readonly number[],
  demands: PackedDemands,
  slopes: Float64Array,
  radius: readonly number[],
): ModelStep {
  // The hinge model's quadratic piece with no member taken out: H over the members in the market
  // (x_i > 0, so x_i stands for the hinge's value at the anchor) and b = S - m.
  const { H, b } = quadraticPiece(R, excess, demands, base.x, slopes, new Uint8Array(demands.count));
  const { lower, upper } = stepBox(base.prices, radius);
  const d = minimiseModel(R, { H, b }, lower, upper, radius);
  return { d, predicted: Math.max(0, predictedDecrease(R, H, b, d)) };
}

/** b'd - 1/2 d'Hd: the model's decrease of the dual for the move d. */
function predictedDecrease(R: number, H: Float64Array, b: Float64Array, d: readonly number[]): number {
  let decrease = 0;
  for (let r = 0; r < R; r++) {
    let hd = 0;
    for (let t = 0; t < R; t++) hd += (H[r * R + t] as number) * (d[t] as number);
    decrease += (b[r] as number) * (d[r] as number) - 0.5 * (d[r] as number) * hd;
  }
  return decrease;
}
