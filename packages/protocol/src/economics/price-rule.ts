import type { Contract } from "../wire/contract.ts";
import { compareIds } from "../wire/ids.ts";
import type { ReportedDemand } from "./demand.ts";
import { solveLinearSystem } from "./linear-algebra.ts";
import { isConverged, priceChange, relativeResidual } from "./stopping-rule.ts";

/**
 * What a price rule carries from one round to the next. Plain JSON data (no Infinity, no NaN), so a
 * node can persist it and every node holding the same state and demand set computes the same bits.
 */
export interface PriceRuleState {
  /** Rounds stepped so far. */
  readonly round: number;
  /**
   * gradient with a derived step: the largest slope bound L = sum_i |slope_i| ||a_i||^2 reported so
   * far (0 before any); eta = 1/L.
   */
  readonly lipschitz: number;
  /** newton: the line-search factor lambda in (0, 1] applied to the stored direction. */
  readonly damping: number;
  /** newton: the last accepted point, its residual and the full step proposed from it. */
  readonly anchor: NewtonAnchor | null;
}

export interface NewtonAnchor {
  readonly prices: readonly number[];
  readonly residual: number;
  readonly direction: readonly number[];
}

export interface PriceStep {
  /** p^{k+1}. */
  prices: number[];
  state: PriceRuleState;
  /** S_r(p^k) = sum_i a_ir x_i, summed in canonical agent order. */
  supply: number[];
  /** The stopping rule's residual at p^k. */
  residual: number;
  /** max_r |p^{k+1}_r - p^k_r|. */
  priceChange: number;
  /** The stopping rule holds at round k: p^k and its demands are the equilibrium. */
  converged: boolean;
  rule: "newton" | "gradient";
}

/** Demands in canonical order as flat arrays: the form the rule computes on. */
export interface PackedDemands {
  readonly count: number;
  readonly x: Float64Array;
  readonly slope: Float64Array;
  /** Row-major count x R. */
  readonly footprint: Float64Array;
}

/** Smallest newton line-search factor; below it a step is accepted even if the residual grew. */
const MIN_DAMPING = 2 ** -10;

export function initialPriceRuleState(_contract: Contract): PriceRuleState {
  return { round: 0, lipschitz: 0, damping: 1, anchor: null };
}

/**
 * One price update from the round's reported demands only. Sorts the demands by agent id first,
 * so the same demand set in any arrival order gives the same bits.
 */
export function stepPrices(
  contract: Contract,
  state: PriceRuleState,
  prices: readonly number[],
  demands: readonly ReportedDemand[],
): PriceStep {
  return stepPricesPacked(contract, state, prices, packDemands(contract, demands));
}

/** Validates and sorts reported demands into canonical order and flattens them. */
export function packDemands(contract: Contract, demands: readonly ReportedDemand[]): PackedDemands {
  const R = contract.resources.length;
  let sorted = true;
  for (let i = 1; i < demands.length && sorted; i++)
    sorted = compareIds((demands[i - 1] as ReportedDemand).agent, (demands[i] as ReportedDemand).agent) < 0;
  const ordered = sorted ? demands : [...demands].sort((a, b) => compareIds(a.agent, b.agent));
  const n = ordered.length;
  const packed: PackedDemands = {
    count: n,
    x: new Float64Array(n),
    slope: new Float64Array(n),
    footprint: new Float64Array(n * R),
  };
  for (let i = 0; i < n; i++) {
    const d = ordered[i] as ReportedDemand;
    if (i > 0 && (ordered[i - 1] as ReportedDemand).agent === d.agent)
      throw new RangeError(`demands: agent ${d.agent} appears twice`);
    if (!(Number.isFinite(d.x) && d.x >= 0))
      throw new RangeError(`demand of ${d.agent}: x must be finite and >= 0`);
    if (!(Number.isFinite(d.slope) && d.slope <= 0))
      throw new RangeError(`demand of ${d.agent}: slope must be finite and <= 0`);
    if (d.footprint.length !== R)
      throw new RangeError(
        `demand of ${d.agent}: footprint has ${d.footprint.length} entries, contract has ${R} resources`,
      );
    packed.x[i] = d.x;
    packed.slope[i] = d.slope;
    for (let r = 0; r < R; r++) {
      const a = d.footprint[r] as number;
      if (!Number.isFinite(a)) throw new RangeError(`demand of ${d.agent}: footprint[${r}] must be finite`);
      packed.footprint[i * R + r] = a;
    }
  }
  return packed;
}

/** Aggregates of one round, each summed in canonical order. */
interface Aggregates {
  supply: Float64Array;
  /** dS/dp = sum_i slope_i a_i a_i^T, row-major R x R (negative semidefinite). */
  jacobian: Float64Array;
  /** sum_i |slope_i| ||a_i||^2 >= the largest eigenvalue of -J: a bound on how fast S moves with p. */
  lipschitz: number;
}

function aggregate(R: number, d: PackedDemands): Aggregates {
  const supply = new Float64Array(R);
  const jacobian = new Float64Array(R * R);
  let lipschitz = 0;
  const { x, slope, footprint } = d;
  for (let i = 0; i < d.count; i++) {
    const xi = x[i] as number;
    const si = slope[i] as number;
    const base = i * R;
    let norm2 = 0;
    for (let r = 0; r < R; r++) {
      const ar = footprint[base + r] as number;
      supply[r] = (supply[r] as number) + ar * xi;
      norm2 += ar * ar;
      if (si !== 0)
        for (let s = 0; s < R; s++)
          jacobian[r * R + s] = (jacobian[r * R + s] as number) + si * ar * (footprint[base + s] as number);
    }
    lipschitz += -si * norm2;
  }
  return { supply, jacobian, lipschitz };
}

/** The rule itself, on demands already in canonical order. simulate() calls this directly. */
export function stepPricesPacked(
  contract: Contract,
  state: PriceRuleState,
  prices: readonly number[],
  demands: PackedDemands,
): PriceStep {
  const R = contract.resources.length;
  if (prices.length !== R)
    throw new RangeError(`prices: ${prices.length} entries, contract has ${R} resources`);
  const capacities = contract.resources.map((r) => r.capacity);
  const agg = aggregate(R, demands);
  const residual = relativeResidual(agg.supply, capacities, prices);
  let next: number[];
  let nextState: PriceRuleState;
  const rule = contract.priceRule;
  if (rule.kind === "gradient") {
    // eta = 1/L with L the largest slope bound reported so far. -J = sum |slope_i| a_i a_i^T has
    // largest eigenvalue <= its trace = L, and S(p) - m is the gradient of the concave dual, whose
    // Hessian is J; projected gradient ascent with eta <= 1/L then never overshoots where the bound
    // holds. For consumers (a_i >= 0) starting from p = 0 it holds everywhere: |slope| is largest at
    // the lowest unit price, and prices only rise from there. Keeping the maximum over rounds covers
    // suppliers, whose unit price falls as p rises.
    const lipschitz = Math.max(state.lipschitz, agg.lipschitz);
    const eta = rule.step ?? (lipschitz > 0 ? 1 / lipschitz : null);
    next = new Array<number>(R);
    for (let r = 0; r < R; r++) {
      const p = prices[r] as number;
      next[r] = Math.max(0, p + gradientDirection(eta, p, agg.supply[r] as number, capacities[r] as number));
    }
    nextState = { round: state.round + 1, lipschitz, damping: 1, anchor: null };
  } else {
    const anchor = state.anchor;
    const backtrack =
      anchor !== null &&
      residual > contract.tolerance.residual &&
      residual > anchor.residual &&
      state.damping > MIN_DAMPING;
    if (backtrack) {
      // The last step made the residual grow: retry half of it from the accepted point.
      const damping = state.damping / 2;
      next = project(anchor.prices, anchor.direction, damping);
      nextState = { round: state.round + 1, lipschitz: state.lipschitz, damping, anchor };
    } else {
      const direction = newtonDirection(prices, capacities, agg);
      const damping = anchor === null ? 1 : Math.min(1, 2 * state.damping);
      next = project(prices, direction, damping);
      nextState = {
        round: state.round + 1,
        lipschitz: state.lipschitz,
        damping,
        anchor: { prices: [...prices], residual, direction },
      };
    }
  }
  const change = priceChange(prices, next);
  return {
    prices: next,
    state: nextState,
    supply: Array.from(agg.supply),
    residual,
    priceChange: change,
    converged: isConverged(contract, residual, change),
    rule: rule.kind,
  };
}

/**
 * The full newton step for p^k. Resources priced at 0 and under-used are held at 0 (their
 * complementary slackness already holds). On the others, solve J_FF d = -(S - m)_F, restricted to
 * resources some responsive agent uses (J_rr < 0). When J_FF is singular or ill-conditioned those
 * get a gradient step with eta = 1/L from this round's slopes instead.
 */
function newtonDirection(
  prices: readonly number[],
  capacities: readonly number[],
  agg: Aggregates,
): number[] {
  const R = capacities.length;
  const direction = new Array<number>(R).fill(0);
  const eta = agg.lipschitz > 0 ? 1 / agg.lipschitz : null;
  const free: number[] = [];
  const unresponsive: number[] = [];
  for (let r = 0; r < R; r++) {
    const pinned = (prices[r] as number) <= 0 && (agg.supply[r] as number) < (capacities[r] as number);
    if (pinned) continue;
    if ((agg.jacobian[r * R + r] as number) < 0) free.push(r);
    else unresponsive.push(r);
  }
  let solved: number[] | null = null;
  if (free.length > 0) {
    const f = free.length;
    const sub = new Float64Array(f * f);
    const rhs = new Float64Array(f);
    free.forEach((r, i) => {
      rhs[i] = (capacities[r] as number) - (agg.supply[r] as number);
      free.forEach((s, j) => {
        sub[i * f + j] = agg.jacobian[r * R + s] as number;
      });
    });
    solved = solveLinearSystem(sub, f, rhs);
  }
  const step = (r: number, e: number | null) =>
    gradientDirection(e, prices[r] as number, agg.supply[r] as number, capacities[r] as number);
  if (solved === null) for (const r of free) direction[r] = step(r, eta);
  else
    free.forEach((r, i) => {
      direction[r] = solved[i] as number;
    });
  // Nobody using r responds to its price: a step sized by other resources' slopes would crawl, so
  // take the scale-free bootstrap step (halve toward 0 when under-used, raise when over-used) until
  // some agent's demand comes off its kink.
  for (const r of unresponsive) direction[r] = step(r, null);
  return direction;
}

/**
 * eta (S - m). With no step to use (no contract step, no agent responding to price yet) a bootstrap
 * move instead: half the relative excess times the price scale max(p, 1), so an over-used resource
 * gets a price and an under-used one halves toward 0.
 */
function gradientDirection(eta: number | null, price: number, supply: number, capacity: number): number {
  if (eta !== null) return eta * (supply - capacity);
  return (0.5 * Math.max(price, 1) * (supply - capacity)) / capacity;
}

function project(from: readonly number[], direction: readonly number[], lambda: number): number[] {
  return from.map((p, r) => Math.max(0, p + lambda * (direction[r] as number)));
}
