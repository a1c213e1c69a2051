import type { NewtonAnchor } from "./newton-rule.ts";
import type { PackedDemands } from "./price-rule.ts";
import { type ModelStep, minimiseModel, quadraticPiece, stepBox } from "./quadratic-model.ts";

/** Per member: its verified slope, entry estimate and checked cap exit slope (newton-rule.ts). */
export interface MemberModel {
  readonly slopes: Float64Array;
  readonly entryPrices: ArrayLike<number>;
  readonly entrySlopes: ArrayLike<number>;
  /** < 0 for a member at its cap whose exit (NewtonAnchor.exitPrices) the rule may use; null: none has one. */
  readonly exitSlopes: ArrayLike<number> | null;
}

/** Re-solves after taking out members the step carries out of the market. */
const EXIT_PASSES = 6;

/**
 * The model: each member's demand as a hinge, x_i(q) = max(0, c_i + s_i (q - q_i^base)) — its
 * verified slope from the anchor while it is in the market (so it leaves when its linearised
 * demand reaches 0), and, for a member out at the anchor but just seen responsive, its slope from
 * its entry price on; a member at its activity cap that said where it leaves it (cap-exit.ts) is a
 * hinge from above: flat to its exit price, then its exit slope. The dual of such demands is convex
 * and piecewise quadratic. The step: the minimiser over the box of its quadratic piece at the
 * anchor (box-quadratic.ts), then cut back to the exact minimiser of the whole model along that
 * direction, found by walking the hinges' breakpoints in order. So a step that would carry a member across its kink stops where the
 * member's entry or exit balances the market, instead of overshooting it.
 */
export function modelStep(
  R: number,
  base: NewtonAnchor,
  excess: readonly number[],
  demands: PackedDemands,
  members: MemberModel,
  radius: readonly number[],
): ModelStep {
  const { exitSlopes } = members;
  const n = demands.count;
  const { footprint } = demands;
  const { c, s } = hingeLines(base, members, n);
  const caps = exitSlopes === null ? null : capLines(base, exitSlopes, n);
  const { lower, upper } = stepBox(base.prices, radius);
  // The quadratic piece at the anchor: the members in the market, less those taken out.
  const out = new Uint8Array(n);
  const first = minimiseModel(R, quadraticPiece(R, excess, demands, c, s, out), lower, upper, radius);
  let direction = first;
  // A member whose linearised demand the step takes below 0 leaves the market: its (negative)
  // demand beyond that point would hold the step back. Take it out of the quadratic and solve
  // again, until the step carries no remaining member out.
  for (let pass = 0; pass < EXIT_PASSES; pass++) {
    let left = false;
    for (let i = 0; i < n; i++) {
      const si = s[i] as number;
      if (out[i] || si === 0 || !((c[i] as number) > 0)) continue;
      let dq = 0;
      for (let r = 0; r < R; r++) dq += (footprint[i * R + r] as number) * (direction[r] as number);
      if ((c[i] as number) + si * dq > 0) continue;
      out[i] = 1;
      left = true;
    }
    if (!left) break;
    direction = minimiseModel(R, quadraticPiece(R, excess, demands, c, s, out), lower, upper, radius);
  }
  // Taking members out can also mislead (one that the shorter step keeps in is still counted
  // out): of the two directions, keep the one along which the full hinge model falls further.
  const plain = alongHinges(R, first, excess, demands, c, s, caps);
  if (direction === first) return plain;
  const exited = alongHinges(R, direction, excess, demands, c, s, caps);
  return exited.predicted > plain.predicted ? exited : plain;
}

/**
 * Per member, its hinge at the anchor: the value c (> 0 for a member in the market) and slope s of
 * the line its demand follows from there. A member in the market: its demand and verified slope. A
 * member out at the anchor but seen responsive, with an entry price below its unit price there: its
 * slope from its entry price on (c < 0: the line reaches 0 at the entry price). (An estimate at or
 * above the unit price contradicts what the member did: it is out, so it enters lower, by an
 * unknown amount. Counting it in from the anchor on would cut every step short near its kink.)
 * Anyone else: 0 and 0.
 */
export function hingeLines(
  base: NewtonAnchor,
  members: Pick<MemberModel, "slopes" | "entryPrices" | "entrySlopes">,
  n: number,
): { c: Float64Array; s: Float64Array } {
  const { slopes, entryPrices, entrySlopes } = members;
  const c = new Float64Array(n);
  const s = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = base.x[i] as number;
    if (x > 0) {
      c[i] = x;
      s[i] = slopes[i] as number;
    } else if (
      (entrySlopes[i] as number) < 0 &&
      (entryPrices[i] as number) < (base.unitPrices[i] as number)
    ) {
      const slope = entrySlopes[i] as number;
      s[i] = slope;
      c[i] = slope * ((base.unitPrices[i] as number) - (entryPrices[i] as number));
    }
  }
  return { c, s };
}

/**
 * The minimiser over t in [0, 1] of the hinge model's dual along `direction`, and the decrease it
 * predicts. Along the direction, -dD/dt = g(t) = sum_i delta_i x_i(t) - m.direction with
 * delta_i = a_i.direction: piecewise linear and non-increasing (the model is convex), with a
 * breakpoint wherever a hinge turns. Walk the breakpoints in order to the first zero of g.
 */
function alongHinges(
  R: number,
  direction: number[],
  excess: readonly number[],
  demands: PackedDemands,
  c: Float64Array,
  s: Float64Array,
  caps: CapLines | null,
): ModelStep {
  const n = demands.count;
  const { footprint } = demands;
  let g = 0;
  for (let r = 0; r < R; r++) g += (direction[r] as number) * (excess[r] as number);
  if (!(g > 0)) return { d: direction.map(() => 0), predicted: 0 };
  let slope = 0;
  const events: { t: number; i: number; change: number }[] = [];
  for (let i = 0; i < n; i++) {
    const ls = caps === null ? 0 : (caps.slope[i] as number);
    if (ls < 0) {
      // At its cap x: flat until its line falls to x, then responsive until it reaches 0.
      let delta = 0;
      for (let r = 0; r < R; r++) delta += (footprint[i * R + r] as number) * (direction[r] as number);
      const k = ls * delta;
      if (k < 0) {
        const line = (caps as CapLines).line[i] as number;
        const curvature = ls * delta * delta;
        const leaves = (line - (c[i] as number)) / -k;
        if (leaves < 1) {
          events.push({ t: leaves, i, change: curvature });
          const out = line / -k;
          if (out < 1) events.push({ t: out, i, change: -curvature });
        }
      }
      continue;
    }
    const si = s[i] as number;
    if (si === 0) continue;
    let delta = 0;
    for (let r = 0; r < R; r++) delta += (footprint[i * R + r] as number) * (direction[r] as number);
    const k = si * delta;
    if (k === 0) continue;
    const ci = c[i] as number;
    const curvature = si * delta * delta;
    if (ci > 0) {
      slope += curvature;
      if (k < 0) {
        const t = -ci / k;
        if (t < 1) events.push({ t, i, change: -curvature });
      }
    } else if (k > 0) {
      const t = -ci / k;
      if (t < 1) events.push({ t, i, change: curvature });
    }
  }
  events.sort((a, b) => a.t - b.t || a.i - b.i);
  let t0 = 0;
  let predicted = 0;
  let t = 1;
  for (let e = 0; e <= events.length; e++) {
    const end = e < events.length ? (events[e] as { t: number }).t : 1;
    const gEnd = g + slope * (end - t0);
    if (gEnd <= 0 && slope < 0) {
      t = t0 - g / slope;
      predicted += 0.5 * g * (t - t0);
      break;
    }
    predicted += 0.5 * (g + gEnd) * (end - t0);
    g = gEnd;
    t0 = end;
    if (e < events.length) slope += (events[e] as { change: number }).change;
  }
  return { d: direction.map((v) => v * t), predicted };
}

/**
 * Per member at its cap at the anchor (below its exit price): the line its demand follows beyond
 * the exit, at the anchor (above the cap), and its slope; 0 for every other member.
 */
interface CapLines {
  readonly line: Float64Array;
  readonly slope: Float64Array;
}

function capLines(base: NewtonAnchor, exitSlopes: ArrayLike<number>, n: number): CapLines {
  const line = new Float64Array(n);
  const slope = new Float64Array(n);
  const exitPrices = base.exitPrices as readonly number[];
  for (let i = 0; i < n; i++) {
    const es = exitSlopes[i] as number;
    if (!(es < 0)) continue;
    line[i] = (base.x[i] as number) + es * ((base.unitPrices[i] as number) - (exitPrices[i] as number));
    slope[i] = es;
  }
  return { line, slope };
}
