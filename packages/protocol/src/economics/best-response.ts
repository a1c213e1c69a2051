import type { Contract } from "../wire/contract.ts";
import { WIRE_NUMBER_BOUND } from "../wire/protocol-numbers.ts";
import type { AgentProfile, Cost, Valuation } from "./agent.ts";
import { costCurvature, costMarginal, costValue } from "./cost.ts";
import type { Demand } from "./demand.ts";
import { valuationCurvature, valuationMarginal, valuationValue } from "./valuation.ts";

/**
 * How far one agent may go when its payoff is unbounded above, as a multiple of the capacity of
 * the tightest resource it touches. Unboundedness happens only for a supplier (or a footprint-free
 * agent with no fee) whose unit price q has fallen to -beta or below while nothing curves its
 * payoff: log or power valuation (V' -> 0), linear cost, no proximal term. Then every extra unit
 * earns -(beta + q) >= 0 forever. Such a price is out of equilibrium (unbounded supply would drive
 * the price back), so the cap only has to keep the iteration finite and deterministic; a level at
 * which one agent alone would move a resource by a thousand times its capacity is far outside any
 * equilibrium of the model. At the cap the reported slope is 0 (a kink).
 * Scenario generators that want every best response interior give suppliers curvature
 * (quadratic cost c > 0, or a quadratic valuation).
 */
export const ACTIVITY_CAP_CAPACITIES = 1000;
/** Cap for an agent whose footprint is all zeros (it touches no resource), and for every agent. */
const FOOTPRINT_FREE_CAP = WIRE_NUMBER_BOUND;

export function activityCap(profile: AgentProfile, contract: Contract): number {
  return footprintCap(contract, profile.footprint, 0);
}

/**
 * The same from the footprint alone (its R entries from `at`): what every node computes for a
 * member from the contract and the member's footprint, bit for bit what the member computed.
 */
export function footprintCap(contract: Contract, footprint: ArrayLike<number>, at: number): number {
  let cap = Number.POSITIVE_INFINITY;
  contract.resources.forEach((r, j) => {
    const a = Math.abs(footprint[at + j] ?? 0);
    if (a > 0) cap = Math.min(cap, (ACTIVITY_CAP_CAPACITIES * r.capacity) / a);
  });
  // Never beyond what a demand message may carry.
  return Math.min(cap, FOOTPRINT_FREE_CAP);
}

/** tau + a_i.p: what one more unit of activity costs the agent in fees and resource prices. */
export function unitPrice(profile: AgentProfile, contract: Contract, prices: readonly number[]): number {
  let q = contract.fees.perUnit;
  for (let r = 0; r < profile.footprint.length; r++) q += (profile.footprint[r] ?? 0) * (prices[r] ?? 0);
  return q;
}

/** U_i(x; p) = V(x) - C(x) - (tau + a.p) x - g 1{x > 0}. -Infinity at x = 0 for power theta > 1. */
export function payoff(
  profile: AgentProfile,
  contract: Contract,
  prices: readonly number[],
  x: number,
): number {
  const q = unitPrice(profile, contract, prices);
  return (
    valuationValue(profile.valuation, x) -
    costValue(profile.cost, x) -
    q * x -
    (x > 0 ? contract.fees.fixed : 0)
  );
}

/**
 * The agent's best response at prices p: argmax_x U_i(x; p), or with previousX and a contract
 * proximal gamma > 0 the proximal response argmax U_i(x; p) - (gamma/2)(x - previousX)^2.
 *
 * slope = dx/dq at the chosen x: -1/(-V'' + C'' + gamma) at an interior optimum, 0 when the agent
 * is out (x = 0), at the activity cap, or at the corner x = 0 (a kink). A fixed fee g > 0 makes the
 * agent participate only when its best gain over staying out covers g; the reported slope is still
 * the local one, so the jump at the participation margin is invisible to it (see equilibrium.ts).
 */
export function bestResponse(
  profile: AgentProfile,
  contract: Contract,
  prices: readonly number[],
  previousX?: number,
): Demand {
  const q = unitPrice(profile, contract, prices);
  const gamma = previousX === undefined ? 0 : contract.proximal;
  return bestResponseAtUnitPrice(
    profile.valuation,
    profile.cost,
    q,
    gamma,
    previousX ?? 0,
    contract.fees.fixed,
    activityCap(profile, contract),
  );
}

/**
 * The same, from the unit price q directly: the hot path of simulations, which precompute the cap.
 * With gamma = 0, `previous` is ignored.
 */
export function bestResponseAtUnitPrice(
  v: Valuation,
  c: Cost,
  q: number,
  gamma: number,
  previous: number,
  fixedFee: number,
  cap: number,
): Demand {
  const x = interiorOptimum(v, c, q, gamma, previous, cap);
  if (x <= 0) return { x: 0, slope: 0 };
  if (fixedFee > 0 && !coversFixedFee(v, c, q, gamma, previous, x, fixedFee)) return { x: 0, slope: 0 };
  if (x >= cap) return capped(v, c, gamma, previous, cap);
  // A reported slope is a hint the price rule checks against what demands do (verified-slopes.ts);
  // clamped, it stays within what a demand message may carry.
  const slope = -1 / (-valuationCurvature(v, x) + costCurvature(c, x) + gamma);
  return { x, slope: Math.max(-WIRE_NUMBER_BOUND, slope) };
}

/**
 * The demand at the activity cap: locally flat (slope 0), and where it leaves the cap. Below the
 * unit price V'(cap) - C'(cap) - gamma (cap - previous) the unconstrained best response lies beyond
 * the cap; above it, it falls at the slope it has there. Left out when that price or slope is not
 * a number a demand message may carry.
 */
function capped(v: Valuation, c: Cost, gamma: number, previous: number, cap: number): Demand {
  const price = valuationMarginal(v, cap) - costMarginal(c, cap) - gamma * (cap - previous);
  const slope = Math.max(
    -WIRE_NUMBER_BOUND,
    -1 / (-valuationCurvature(v, cap) + costCurvature(c, cap) + gamma),
  );
  if (!(Math.abs(price) <= WIRE_NUMBER_BOUND && slope < 0)) return { x: cap, slope: 0 };
  return { x: cap, slope: 0, exit: { price, slope } };
}

/**
 * Whether the gain of x over staying out, in the agent's own (proximal) objective, is at least g.
 * Power theta > 1 has V(0) = -Infinity, so the gain is infinite: such an agent always participates.
 */
function coversFixedFee(
  v: Valuation,
  c: Cost,
  q: number,
  gamma: number,
  previous: number,
  x: number,
  fixedFee: number,
): boolean {
  const v0 = valuationValue(v, 0);
  if (v0 === Number.NEGATIVE_INFINITY) return true;
  const proxAtX = gamma > 0 ? (gamma / 2) * ((x - previous) ** 2 - previous ** 2) : 0;
  const gain = valuationValue(v, x) - v0 - costValue(c, x) - q * x - proxAtX;
  return gain >= fixedFee;
}

/**
 * argmax over x >= 0 of V(x) - C(x) - q x - (gamma/2)(x - prev)^2, ignoring the fixed fee, clamped
 * to [0, cap]. The first-order condition is V'(x) = k + s x with k = beta + q - gamma*prev and
 * s = c + gamma (c the quadratic-cost curvature). Its left side falls and its right side rises in
 * x, so the root is unique; closed forms where they exist, a safeguarded Newton-bisection otherwise.
 */
function interiorOptimum(v: Valuation, c: Cost, q: number, gamma: number, prev: number, cap: number): number {
  const k = c.beta + q - gamma * prev;
  const s = (c.kind === "quadratic" ? c.c : 0) + gamma;
  switch (v.kind) {
    case "quadratic": {
      // a - b x = k + s x.
      const x = (v.a - k) / (v.b + s);
      return x <= 0 ? 0 : Math.min(x, cap);
    }
    case "log": {
      // alpha/(1+x) = k + s x  <=>  s x^2 + (k + s) x + (k - alpha) = 0.
      if (v.alpha <= k) return 0;
      if (s === 0) return k <= 0 ? cap : Math.min(v.alpha / k - 1, cap);
      const bq = k + s;
      const disc = Math.sqrt(bq * bq + 4 * s * (v.alpha - k));
      // The two algebraically equal forms; pick the one without cancellation.
      const x = bq >= 0 ? (2 * (v.alpha - k)) / (bq + disc) : (disc - bq) / (2 * s);
      return Math.min(Math.max(x, 0), cap);
    }
    case "power": {
      // w x^-theta = k + s x; V'(0+) = +Infinity so the root is positive.
      if (s === 0) return k <= 0 ? cap : Math.min((v.w / k) ** (1 / v.theta), cap);
      return powerRoot(v.w, v.theta, k, s, cap);
    }
  }
}

/**
 * Root of h(x) = w x^-theta - k - s x (s > 0) on (0, cap]: h is convex and decreasing, +Infinity at
 * 0. Newton steps are kept inside a shrinking bracket [lo, hi] with h(lo) > 0 >= h(hi); a step that
 * leaves it is replaced by bisection. Converges to a few ulps.
 */
function powerRoot(w: number, theta: number, k: number, s: number, cap: number): number {
  const h = (x: number) => w * x ** -theta - k - s * x;
  // At x_s = (w/s)^(1/(1+theta)), h = -k: a bracket end when k >= 0; otherwise grow until h <= 0.
  let hi = Math.max((w / s) ** (1 / (1 + theta)), Number.MIN_VALUE);
  while (h(hi) > 0) {
    if (hi >= cap) return cap;
    hi = Math.min(hi * 2, cap);
  }
  let lo = 0;
  let x = hi;
  for (let i = 0; i < 200; i++) {
    const hx = h(x);
    if (hx === 0) return x;
    if (hx > 0) lo = x;
    else hi = x;
    const dh = -theta * w * x ** (-theta - 1) - s;
    let next = x - hx / dh;
    if (!(next > lo && next < hi)) next = lo + (hi - lo) / 2;
    if (Math.abs(next - x) <= 1e-15 * x || hi - lo <= 1e-15 * hi) return next;
    x = next;
  }
  return x;
}
