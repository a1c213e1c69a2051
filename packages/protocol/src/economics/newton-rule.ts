import type { Contract } from "../wire/contract.ts";
import { footprintCap } from "./best-response.ts";
import { type CapObservation, checkedExitSlope } from "./cap-exit.ts";
import { curveStep } from "./curve-model.ts";
import { modelStep } from "./hinge-model.ts";
import { PRICE_CEILING } from "./price-ceiling.ts";
import type { PackedDemands } from "./price-rule.ts";
import type { ModelStep } from "./quadratic-model.ts";
import { firstRegionShaped, regionFollowingMetric, regionMetric } from "./region-metric.ts";
import { sumsStep } from "./sums-model.ts";
import { verifiedSlope } from "./verified-slopes.ts";

/**
 * The newton rule: a trust-region Newton method on the market's dual, with every member's
 * reported slope checked against its observed demand (verified-slopes.ts).
 *
 * The dual D(p) = sum_i max_x [V_i - C_i - g 1{x>0} - (tau + a_i.p) x] + p.m is convex in p (a sum
 * of maxima of affine functions), its gradient is m - S(p), and the contract equilibrium is its
 * minimiser over p >= 0. Each round gives the gradient at one point exactly (the demands) and a
 * Hessian estimate H = sum_i |s_i| a_i a_i' from the verified slopes s_i.
 *
 * From the last accepted point p (the anchor) the step d minimises the model
 * (m - S).d + 1/2 d'Hd over the box p + d >= 0, |d_r| <= radius_r (box-quadratic.ts): Newton's
 * step where it fits, the bound p_r = 0 where a resource should be free, and a move to the edge of
 * the trust region along directions no responsive member prices (a rank-deficient H), which is
 * what let the old rule crawl. The next round's demands at p + d give the gradient there, and so,
 * by the trapezoid rule (exact for a quadratic), the decrease of D actually achieved:
 * 1/2 (S(p) - m + S(p+d) - m).d. Its ratio to the model's prediction decides, as in any trust-region
 * method (Nocedal & Wright, Numerical Optimization, ch. 4): accept p + d as the new anchor (and
 * widen the region where the step was cut by it) or return to the anchor with a smaller region.
 *
 * Two models of the market give the step (the contract's `priceRule.model`): `hinges`, the
 * default, takes out members the step carries out of the market and cuts the step at the kinks
 * of every member's demand (hinge-model.ts); `sums` stops at the box minimiser, so the step needs
 * only the market's sums, which committee aggregates carry (sums-model.ts, docs/scaling.md §2).
 *
 * Everything is a function of the state and of the demands in canonical order; the state is plain
 * JSON (numbers and arrays), so every node computes the same bits.
 */
export interface NewtonState {
  /** The last accepted point: where the next step starts. */
  readonly anchor: NewtonAnchor;
  /** The step tried from the anchor (the current prices are anchor + step) and the model's promise. */
  readonly step: readonly number[];
  readonly predicted: number;
  /**
   * Per resource, the largest price move the model is trusted for: a box of fixed shape in the
   * units of `metric` (region-metric.ts).
   */
  readonly radius: readonly number[];
  /** Per resource, the model's curvature scale sqrt(H_rr) at the anchor; null before any. */
  readonly metric: readonly number[] | null;
  /**
   * Per member, from the last round it was seen responsive (x > 0, a verified slope < 0): the unit
   * price at which its linearised demand reaches 0 (where it enters the market) and that slope;
   * slope 0 if never. Lets the model count a member that sits out at the anchor but was in the
   * market before. An estimate the member's own behaviour contradicts (out at the anchor although
   * its entry price lies above its unit price there) is not used (hinge-model.ts).
   */
  readonly entryPrices: readonly number[];
  readonly entrySlopes: readonly number[];
}

export interface NewtonAnchor {
  readonly prices: readonly number[];
  /** S - m at the anchor. */
  readonly excess: readonly number[];
  /** Per member in canonical order: unit price tau + a_i.p, demand and reported slope there. */
  readonly unitPrices: readonly number[];
  readonly x: readonly number[];
  readonly slopes: readonly number[];
  /**
   * Per member at its activity cap: where it leaves it and its slope there (slope 0: none). Both
   * absent when no demand of the round carried an exit (packDemands): no arrays on the hot path.
   */
  readonly exitPrices?: readonly number[];
  readonly exitSlopes?: readonly number[];
}

/** Accept a step whose achieved decrease of the dual is at least this share of the predicted. */
const ACCEPT_RATIO = 0.1;
/** An accepted step that achieved more than this share and used its whole region widens it. */
const EXPAND_RATIO = 0.75;
const EXPAND = 2;
/** A rejected step shrinks the region to at least this share of what the step used. */
const MIN_SHRINK = 0.25;
const MAX_SHRINK = 0.9;
/** An excess below this share of the tolerance (relative to capacity) counts as 0. */
const SETTLED = 1e-3;
/** The first region: the largest member's price scale, but at most this times the median one. */
const SCALE_SPREAD = 16;

export interface NewtonOutcome {
  readonly next: number[];
  readonly state: NewtonState;
}

/**
 * One step of the rule at `prices` (= the previous step's target) with their demands and the
 * supply S they add up to. `residual` is the stopping rule's at `prices`.
 */
export function newtonStep(
  contract: Contract,
  previous: NewtonState | null,
  prices: readonly number[],
  demands: PackedDemands,
  supply: ArrayLike<number>,
  residual: number,
): NewtonOutcome {
  const R = contract.resources.length;
  const here = observe(contract, prices, demands, supply);
  const known = previous !== null && previous.anchor.x.length === demands.count ? previous : null;
  let base = here;
  let other: NewtonAnchor | null = null;
  let radius: number[];
  if (known === null) {
    radius = initialRadius(prices, demands, R);
  } else {
    const verdict = judgeTrial(contract, known, here, residual);
    radius = verdict.radius;
    base = verdict.accepted ? here : known.anchor;
    other = verdict.accepted ? known.anchor : here;
  }
  const members = observeMembers(base, other, other === here, known);
  const metric = regionMetric(base, demands, members.slopes, R, known?.metric ?? null);
  if (metric !== null)
    radius =
      known === null
        ? firstRegionShaped(radius, metric)
        : regionFollowingMetric(radius, known.metric, metric);
  // An excess far inside the tolerance is rounding noise, not a reason to move: along directions
  // no responsive member prices (a set of equilibrium prices, not one) the model would magnify it
  // into a drift that never lets the price settle.
  const settled = SETTLED * contract.tolerance.residual;
  const excess = base.excess.map((e, r) =>
    Math.abs(e) <= settled * (contract.resources[r]?.capacity as number) ? 0 : e,
  );
  const step = modelledStep(contract, base, other, excess, demands, members, radius);
  const next = base.prices.map((p, r) => Math.min(PRICE_CEILING, Math.max(0, p + (step.d[r] as number))));
  return {
    next,
    state: {
      anchor: base,
      step: step.d,
      predicted: step.predicted,
      radius,
      metric,
      entryPrices: members.entryPrices,
      entrySlopes: members.entrySlopes,
    },
  };
}

/** The step the contract's model of the market gives from `base` (hinges unless it names another). */
function modelledStep(
  contract: Contract,
  base: NewtonAnchor,
  other: NewtonAnchor | null,
  excess: readonly number[],
  demands: PackedDemands,
  members: ReturnType<typeof observeMembers>,
  radius: readonly number[],
): ModelStep {
  const R = contract.resources.length;
  const model = contract.priceRule.kind === "newton" ? contract.priceRule.model : undefined;
  if (model === "sums") return sumsStep(R, base, excess, demands, members.slopes, radius);
  const hinges = modelStep(R, base, excess, demands, members, radius);
  // A proximal contract's demands depend on each member's previous one: no fixed curve to fit, and
  // its trial points are never stepped back from (judgeTrial), so a misfit would stand.
  if (model !== "curves" || contract.proximal > 0) return hinges;
  return curveStep(R, base, other, excess, demands, members, radius, hinges);
}

/**
 * The trial point `here` (the anchor plus the step tried): does it become the anchor, and how large
 * is the next region? phi(t) = D(anchor + t step); the demands at both ends give phi'(0) and
 * phi'(1) exactly, and the trapezoid rule (exact when D is quadratic along the step) the decrease
 * achieved, to set against the decrease the model predicted.
 */
function judgeTrial(
  contract: Contract,
  previous: NewtonState,
  here: NewtonAnchor,
  residual: number,
): { accepted: boolean; radius: number[] } {
  const anchor = previous.anchor;
  const step = here.prices.map((p, r) => p - (anchor.prices[r] as number));
  let slope0 = 0;
  let slope1 = 0;
  step.forEach((d, r) => {
    slope0 -= (anchor.excess[r] as number) * d;
    slope1 -= (here.excess[r] as number) * d;
  });
  const achieved = -0.5 * (slope0 + slope1);
  const ratio = previous.predicted > 0 ? achieved / previous.predicted : 1;
  // A proximal contract (gamma > 0) makes each demand depend on the member's previous one, so
  // the market's dual moves from round to round and the anchor's demands go stale: there the
  // rule never steps back, it only lets a poor step shrink the region.
  const proximal = contract.proximal > 0;
  const good = ratio >= ACCEPT_RATIO;
  const accepted = good || residual <= contract.tolerance.residual || proximal;
  if (accepted && (good || !proximal))
    return { accepted, radius: ratio > EXPAND_RATIO ? widened(previous.radius, step) : [...previous.radius] };
  // The minimiser of phi lies near where the secant of phi' crosses 0: shrink to about there.
  const secant = slope1 > 0 && slope0 < 0 ? slope0 / (slope0 - slope1) : MIN_SHRINK;
  return {
    accepted,
    radius: shrunk(previous.radius, step, Math.min(MAX_SHRINK, Math.max(MIN_SHRINK, secant))),
  };
}

/**
 * Per member: its slope at the anchor, checked against the secant of the segment just travelled
 * (to `other`), and where it would enter the market by what it did at either end of that segment
 * (the newer end wins; a member not seen responsive on it keeps its last estimate). One pass over
 * the members into flat arrays: this runs for every member every round.
 */
function observeMembers(
  base: NewtonAnchor,
  other: NewtonAnchor | null,
  otherIsNewer: boolean,
  previous: NewtonState | null,
): { slopes: Float64Array; entryPrices: number[]; entrySlopes: number[]; exitSlopes: Float64Array | null } {
  const n = base.x.length;
  const slopes = new Float64Array(n);
  const anyExit = base.exitSlopes !== undefined || other?.exitSlopes !== undefined;
  const exitSlopes = anyExit ? new Float64Array(n) : null;
  const entryPrices = doubles(n);
  const entrySlopes = doubles(n);
  for (let i = 0; i < n; i++) {
    const qb = base.unitPrices[i] as number;
    const xb = base.x[i] as number;
    let sb = base.slopes[i] as number;
    entryPrices[i] = 0;
    entrySlopes[i] = 0;
    if (other !== null) {
      const qo = other.unitPrices[i] as number;
      const xo = other.x[i] as number;
      sb = verifiedSlope(qo, xo, qb, xb, sb);
      const so = verifiedSlope(qb, xb, qo, xo, other.slopes[i] as number);
      if (otherIsNewer) {
        remember(entryPrices, entrySlopes, i, qb, xb, sb);
        remember(entryPrices, entrySlopes, i, qo, xo, so);
      } else {
        remember(entryPrices, entrySlopes, i, qo, xo, so);
        remember(entryPrices, entrySlopes, i, qb, xb, sb);
      }
    } else remember(entryPrices, entrySlopes, i, qb, xb, sb);
    // A member at its cap that says where it leaves it: the line it follows beyond the exit is
    // also where it would enter, and the newer end wins, as above. (Most members never reach
    // their cap: no objects for them, this runs for every member every round.)
    if (exitSlopes !== null && (hasExit(base, i) || (other !== null && hasExit(other, i)))) {
      const atBase = capObservation(base, i);
      const atOther = other === null ? null : capObservation(other, i);
      const eb = checkedExitSlope(atBase, atOther);
      const eo = atOther === null ? 0 : checkedExitSlope(atOther, atBase);
      exitSlopes[i] = eb;
      if (otherIsNewer) {
        rememberExit(entryPrices, entrySlopes, i, atBase, eb);
        if (atOther !== null) rememberExit(entryPrices, entrySlopes, i, atOther, eo);
      } else {
        if (atOther !== null) rememberExit(entryPrices, entrySlopes, i, atOther, eo);
        rememberExit(entryPrices, entrySlopes, i, atBase, eb);
      }
    }
    slopes[i] = sb;
    if (previous !== null && entrySlopes[i] === 0) {
      entrySlopes[i] = previous.entrySlopes[i] as number;
      entryPrices[i] = previous.entryPrices[i] as number;
    }
  }
  return { slopes, entryPrices, entrySlopes, exitSlopes };
}

/**
 * A plain array for n numbers, every one of which the caller writes. Filled with a non-integer, it
 * holds unboxed doubles from the start: filled with 0, V8 would first store small integers and
 * convert the whole store on the first write of a fraction, about ten times slower over the
 * 100,000 members of the bench, every round.
 */
function doubles(n: number): number[] {
  return new Array<number>(n).fill(0.5);
}

function hasExit(a: NewtonAnchor, i: number): boolean {
  return ((a.exitSlopes?.[i] as number | undefined) ?? 0) < 0;
}

function capObservation(a: NewtonAnchor, i: number): CapObservation {
  return {
    q: a.unitPrices[i] as number,
    x: a.x[i] as number,
    exit: (a.exitPrices?.[i] as number | undefined) ?? 0,
    exitSlope: (a.exitSlopes?.[i] as number | undefined) ?? 0,
  };
}

/** A member at its cap x that leaves it at unit price e with slope s (< 0, checked) enters at e - x/s. */
function rememberExit(prices: number[], slopes: number[], i: number, o: CapObservation, s: number): void {
  if (!(s < 0)) return;
  const entry = o.exit - o.x / s;
  if (!Number.isFinite(entry)) return;
  prices[i] = entry;
  slopes[i] = s;
}

/** A member seen responsive at unit price q with demand x > 0 and slope s < 0 enters at q - x/s. */
function remember(prices: number[], slopes: number[], i: number, q: number, x: number, s: number): void {
  if (!(x > 0 && s < 0)) return;
  const entry = q - x / s;
  if (!Number.isFinite(entry)) return;
  prices[i] = entry;
  slopes[i] = s;
}

function observe(
  contract: Contract,
  prices: readonly number[],
  demands: PackedDemands,
  supply: ArrayLike<number>,
): NewtonAnchor {
  const R = prices.length;
  const tau = contract.fees.perUnit;
  const n = demands.count;
  const unitPrices = doubles(n);
  const x = doubles(n);
  const slopes = doubles(n);
  const exits = demands.exitSlope === undefined ? null : { prices: doubles(n), slopes: doubles(n) };
  const { footprint } = demands;
  for (let i = 0; i < n; i++) {
    let q = tau;
    for (let r = 0; r < R; r++) q += (footprint[i * R + r] as number) * (prices[r] as number);
    unitPrices[i] = q;
    x[i] = demands.x[i] as number;
    slopes[i] = demands.slope[i] as number;
    // An exit counts only from a member exactly at its activity cap, which every node computes
    // from the contract and the member's footprint: a member below it could claim to leave a cap
    // it is not at from wherever it stands, and hold every step of the hinge walk short.
    if (exits === null) continue;
    const es = demands.exitSlope?.[i] ?? 0;
    const atCap = es < 0 && x[i] === footprintCap(contract, footprint, i * R);
    exits.prices[i] = atCap ? (demands.exitPrice?.[i] ?? 0) : 0;
    exits.slopes[i] = atCap ? es : 0;
  }
  return {
    prices: [...prices],
    excess: contract.resources.map((res, r) => (supply[r] as number) - res.capacity),
    unitPrices,
    x,
    slopes,
    ...(exits === null ? {} : { exitPrices: exits.prices, exitSlopes: exits.slopes }),
  };
}

/**
 * Before any step: each resource may move by its price, or by the market's price scale where that
 * is larger. A member's scale is x_i/|s_i| / max_r |a_ir|: the resource-price change that would
 * take its demand to 0 at its reported slope. The market's is the largest of them, but at most
 * SCALE_SPREAD times the median: the slopes are not verified yet, and one member reporting a slope
 * 1e-6 times its true one would otherwise set a region a million times too large. With nobody
 * responsive, 1.
 */
function initialRadius(prices: readonly number[], demands: PackedDemands, R: number): number[] {
  const scales: number[] = [];
  for (let i = 0; i < demands.count; i++) {
    const s = demands.slope[i] as number;
    const x = demands.x[i] as number;
    if (!(s < 0 && x > 0)) continue;
    let a = 0;
    for (let r = 0; r < R; r++) a = Math.max(a, Math.abs(demands.footprint[i * R + r] as number));
    const scale = x / -s / a;
    if (a > 0 && Number.isFinite(scale) && scale > 0) scales.push(scale);
  }
  scales.sort((a, b) => a - b);
  if (scales.length === 0) return prices.map((p) => Math.max(p, 1));
  const median = scales[(scales.length - 1) >> 1] as number;
  const scale = Math.min(SCALE_SPREAD * median, scales[scales.length - 1] as number, PRICE_CEILING);
  return prices.map((p) => Math.max(p, scale));
}

/** The region used to its edge by a step that did as the model said: twice as large. */
function widened(radius: readonly number[], step: readonly number[]): number[] {
  // No move needs to be larger than the price bound (and the state must stay finite).
  return used(radius, step) >= 0.99
    ? radius.map((rho) => Math.min(PRICE_CEILING, rho * EXPAND))
    : [...radius];
}

/**
 * A rejected step: the region scaled as a whole (a box of fixed shape) to `factor` of the part
 * the step used, so that a resource whose price hardly moved keeps its room to move.
 */
function shrunk(radius: readonly number[], step: readonly number[], factor: number): number[] {
  const u = used(radius, step);
  return u > 0 ? radius.map((rho) => rho * factor * Math.min(1, u)) : [...radius];
}

/** max_r |step_r| / radius_r: how much of the region a step used. */
function used(radius: readonly number[], step: readonly number[]): number {
  let u = 0;
  radius.forEach((rho, r) => {
    if (rho > 0) u = Math.max(u, Math.abs(step[r] as number) / rho);
  });
  return u;
}
