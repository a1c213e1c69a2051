import type { Contract } from "../wire/contract.ts";
import { compareIds } from "../wire/ids.ts";
import type { ReportedDemand } from "./demand.ts";
import { type NewtonState, newtonStep } from "./newton-rule.ts";
import { PRICE_CEILING } from "./price-ceiling.ts";
import { initialProgress, judgeProgress, type ProgressTrack, type StallReason } from "./stall-rule.ts";
import { isConverged, priceChange, proximalDrift, relativeResidual } from "./stopping-rule.ts";

/**
 * What a price rule carries from one round to the next. Plain JSON data (no Infinity, no NaN), so a
 * node can persist it and every node holding the same state and demand set computes the same bits.
 * It belongs to one member set (an epoch): the newton rule keeps per-member observations in
 * canonical order.
 */
export interface PriceRuleState {
  /** Rounds stepped so far. */
  readonly round: number;
  /**
   * gradient with a derived step: the largest slope bound L = sum_i |slope_i| ||a_i||^2 reported so
   * far (0 before any); eta = 1/L.
   */
  readonly lipschitz: number;
  /** newton: its anchor, the step being tried and its trust region (newton-rule.ts). */
  readonly newton: NewtonState | null;
  /** The stall rule's memory (stall-rule.ts). */
  readonly progress: ProgressTrack;
  /**
   * Under a proximal contract, the previous round's x in canonical order (the stopping rule's
   * drift test, stopping-rule.ts); null before the first round and when gamma = 0.
   */
  readonly lastX: readonly number[] | null;
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
  /**
   * How far round k is from converging, in the residual's units: the residual, or under a
   * proximal contract the larger of it and the demands' drift (stopping-rule.ts). The stall rule
   * judges progress by it, and an epoch that stops settles on the round where it was least: a
   * round at p = 0 with its members still climbing has residual 0 and is not a good round.
   */
  gap: number;
  /** The stopping rule holds at round k: p^k and its demands are the equilibrium. */
  converged: boolean;
  /**
   * Not converged, and the stall rule says to stop looking (stall-rule.ts): the epoch settles on
   * its best round, flagged approximate with this reason. null: keep going.
   */
  stall: StallReason | null;
  rule: "newton" | "gradient";
}

/** Demands in canonical order as flat arrays: the form the rule computes on. */
export interface PackedDemands {
  readonly count: number;
  readonly x: Float64Array;
  readonly slope: Float64Array;
  /** Row-major count x R. */
  readonly footprint: Float64Array;
  /**
   * Per member, where it leaves its activity cap (Demand.exit): slope 0 where it reported none.
   * Absent when no demand has one, so the rule skips its exit arrays and loops.
   */
  readonly exitPrice?: Float64Array;
  readonly exitSlope?: Float64Array;
}

export function initialPriceRuleState(_contract: Contract): PriceRuleState {
  return { round: 0, lipschitz: 0, newton: null, progress: initialProgress, lastX: null };
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
  const anyExit = ordered.some((d) => d.exit !== undefined);
  const packed: PackedDemands = {
    count: n,
    x: new Float64Array(n),
    slope: new Float64Array(n),
    footprint: new Float64Array(n * R),
    ...(anyExit ? { exitPrice: new Float64Array(n), exitSlope: new Float64Array(n) } : {}),
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
    if (d.exit !== undefined) {
      if (!(Number.isFinite(d.exit.price) && Number.isFinite(d.exit.slope) && d.exit.slope < 0))
        throw new RangeError(`demand of ${d.agent}: exit must have a finite price and a slope < 0`);
      (packed.exitPrice as Float64Array)[i] = d.exit.price;
      (packed.exitSlope as Float64Array)[i] = d.exit.slope;
    }
    for (let r = 0; r < R; r++) {
      const a = d.footprint[r] as number;
      if (!Number.isFinite(a)) throw new RangeError(`demand of ${d.agent}: footprint[${r}] must be finite`);
      packed.footprint[i * R + r] = a;
    }
  }
  return packed;
}

/** S_r = sum_i a_ir x_i, and L = sum_i |slope_i| ||a_i||^2, each summed in canonical order. */
function aggregate(R: number, d: PackedDemands): { supply: Float64Array; lipschitz: number } {
  const supply = new Float64Array(R);
  let lipschitz = 0;
  const { x, slope, footprint } = d;
  for (let i = 0; i < d.count; i++) {
    const xi = x[i] as number;
    const base = i * R;
    let norm2 = 0;
    for (let r = 0; r < R; r++) {
      const ar = footprint[base + r] as number;
      supply[r] = (supply[r] as number) + ar * xi;
      norm2 += ar * ar;
    }
    lipschitz += -(slope[i] as number) * norm2;
  }
  return { supply, lipschitz };
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
      const step = gradientDirection(eta, p, agg.supply[r] as number, capacities[r] as number);
      next[r] = Math.min(PRICE_CEILING, Math.max(0, p + step));
    }
    nextState = { ...state, round: state.round + 1, lipschitz, newton: null };
  } else {
    const outcome = newtonStep(contract, state.newton, prices, demands, agg.supply, residual);
    next = outcome.next;
    nextState = { ...state, round: state.round + 1, newton: outcome.state };
  }
  const change = priceChange(prices, next);
  const proximal = contract.proximal > 0;
  const drift = proximal ? proximalDrift(capacities, demands.footprint, demands.x, state.lastX) : 0;
  const converged = isConverged(contract, residual, change, drift);
  if (proximal) nextState = { ...nextState, lastX: Array.from(demands.x) };
  // An epoch's first round has no drift to measure, so under a proximal contract it cannot
  // converge, and it is no round to settle on either: in a warm-started epoch its demands are
  // already proximal (pulled toward the last epoch's), and at p = 0 with members still climbing its
  // residual is 0. The largest finite double (state stays plain JSON) puts it last.
  const gap = Number.isFinite(drift) ? Math.max(residual, drift) : Number.MAX_VALUE;
  const atCeiling = prices.some(
    (p, r) => p >= PRICE_CEILING && (agg.supply[r] as number) > (capacities[r] as number),
  );
  const progress = judgeProgress(contract, state.progress, state.round, gap, atCeiling, change === 0);
  return {
    prices: next,
    state: { ...nextState, progress: progress.track },
    supply: Array.from(agg.supply),
    residual,
    priceChange: change,
    gap,
    converged,
    stall: converged ? null : progress.stall,
    rule: rule.kind,
  };
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
