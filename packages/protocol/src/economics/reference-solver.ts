import type { Contract } from "../wire/contract.ts";
import { type AgentId, asAgentId, compareIds } from "../wire/ids.ts";
import type { ScenarioAgent } from "./agent.ts";
import { bestResponse } from "./best-response.ts";
import { costValue } from "./cost.ts";
import type { Scenario } from "./scenario.ts";
import { relativeResidual } from "./stopping-rule.ts";
import { valuationValue } from "./valuation.ts";

/**
 * "exact": prices clear to machine precision (complementary slackness holds); "not-binding":
 * S(0) <= m, all prices 0; "approximate": no exact clearing price was found (a fixed fee g > 0
 * makes demand jump), and the prices are where aggregate demand crosses capacity.
 */
export type ReferenceStatus = "exact" | "not-binding" | "approximate";

export interface ReferenceSolution {
  status: ReferenceStatus;
  prices: number[];
  /** In canonical (agent id) order. */
  allocations: { agent: AgentId; x: number }[];
  supply: number[];
  residual: number;
}

/** Clearing is "exact" when the relative residual is within this of 0. */
const EXACT_RESIDUAL = 1e-9;
const MAX_ITERATIONS = 300;

/**
 * The equilibrium computed without the protocol's iteration and without price-rule.ts: nested
 * one-dimensional root finding on the convex dual D(p) = sum_i max_x [V_i - C_i - (tau + a_i.p) x]
 * + p.m over p >= 0, whose gradient is m - S(p).
 *
 * For one resource S(p) - m is non-increasing in p (dS/dp = sum_i slope_i a_i^2 <= 0), so a
 * bracketed root finder on it gives p*. For several, p_0 is found by the same root finder applied to
 * S_0(p_0, p_rest*(p_0)) - m_0, where p_rest*(p_0) solves the remaining resources recursively: that
 * is the derivative of the partially minimised dual min_{p_rest} D, which stays convex in p_0, so
 * the function is again monotone. Each solve is Illinois regula falsi inside a bracket, to about
 * 1e-15 relative. Demand at a price is each agent's bestResponse (its own optimisation, tested on
 * its own against numerical maximisation of the payoff).
 */
export function solveReference(scenario: Scenario): ReferenceSolution {
  const contract = scenario.contract;
  const agents = canonicalAgents(scenario);
  const R = contract.resources.length;
  const capacities = contract.resources.map((r) => r.capacity);
  const prices = new Array<number>(R).fill(0);
  const supplyAt = (p: readonly number[]): number[] => {
    const s = new Array<number>(R).fill(0);
    for (const a of agents) {
      const x = bestResponse(a, contract, p).x;
      for (let r = 0; r < R; r++) s[r] = (s[r] as number) + (a.footprint[r] as number) * x;
    }
    return s;
  };
  // Sets prices[level..] to the solution for fixed prices[0..level-1]; returns the supply there.
  const solveFrom = (level: number): number[] => {
    if (level === R) return supplyAt(prices);
    const excess = (p: number): number => {
      prices[level] = p;
      return (solveFrom(level + 1)[level] as number) - (capacities[level] as number);
    };
    prices[level] = monotoneRoot(excess);
    return solveFrom(level + 1);
  };
  const supply = solveFrom(0);
  const residual = relativeResidual(supply, capacities, prices);
  const status: ReferenceStatus =
    residual > EXACT_RESIDUAL ? "approximate" : prices.every((p) => p === 0) ? "not-binding" : "exact";
  return {
    status,
    prices: [...prices],
    allocations: agents.map((a) => ({ agent: asAgentId(a.id), x: bestResponse(a, contract, prices).x })),
    supply,
    residual,
  };
}

/**
 * The smallest p >= 0 with f(p) <= 0 for a non-increasing f (0 when f(0) <= 0): a bracket by
 * doubling, then Illinois regula falsi (superlinear, never leaves the bracket), ending on the
 * bracket end with the smaller |f|. At a jump of f it converges to the jump.
 */
function monotoneRoot(f: (p: number) => number): number {
  let fLo = f(0);
  if (fLo <= 0) return 0;
  let lo = 0;
  let hi = 1;
  let fHi = f(hi);
  while (fHi > 0) {
    lo = hi;
    fLo = fHi;
    hi *= 2;
    if (!Number.isFinite(hi))
      throw new RangeError("reference solver: no price makes supply fall to capacity");
    fHi = f(hi);
  }
  let side = 0;
  for (let i = 0; i < MAX_ITERATIONS && fHi !== 0; i++) {
    if (hi - lo <= 1e-15 * hi) break;
    let p = (lo * fHi - hi * fLo) / (fHi - fLo);
    if (!(p > lo && p < hi)) p = lo + (hi - lo) / 2;
    const fp = f(p);
    if (fp > 0) {
      lo = p;
      fLo = fp;
      if (side === -1) fHi /= 2;
      side = -1;
    } else {
      hi = p;
      fHi = fp;
      if (side === 1) fLo /= 2;
      side = 1;
    }
  }
  return hi;
}

export interface WelfareOptimum {
  /** "exact" for g = 0 (convex problem) or g > 0 with n <= EXACT_SEARCH_AGENTS; else "approximate". */
  status: "exact" | "approximate";
  welfare: number;
  allocations: { agent: AgentId; x: number }[];
}

/** Up to this many agents, g > 0 searches every participation set. */
export const EXACT_SEARCH_AGENTS = 12;

/** Sum over agents of V_i(x_i) - C_i(x_i) - tau x_i - g 1{x_i > 0}: the paper's efficiency. */
export function welfare(scenario: Scenario, allocations: readonly { agent: string; x: number }[]): number {
  const byId = new Map(scenario.agents.map((a) => [a.id, a]));
  const { perUnit, fixed } = scenario.contract.fees;
  let w = 0;
  for (const { agent, x } of allocations) {
    const a = byId.get(agent);
    if (!a) throw new RangeError(`allocation names unknown agent ${agent}`);
    w += valuationValue(a.valuation, x) - costValue(a.cost, x) - perUnit * x - (x > 0 ? fixed : 0);
  }
  return w;
}

/**
 * The allocation maximising welfare subject to sum_i a_i x_i <= m.
 * g = 0: a concave problem whose KKT point is the equilibrium (first welfare theorem); solved through
 * its dual by solveReference.
 * g > 0: the fee makes the problem a choice of participation set T followed by the g = 0 problem on
 * T. For n <= EXACT_SEARCH_AGENTS every T is tried ("exact"); beyond, a greedy descent from T = all
 * removes one agent at a time while welfare rises ("approximate": a local optimum).
 * Agents with V(0) = -Infinity (power, theta > 1) are always in T.
 */
export function welfareOptimum(scenario: Scenario): WelfareOptimum {
  const agents = canonicalAgents(scenario);
  if (scenario.contract.fees.fixed === 0) {
    const allocations = solveReference(scenario).allocations;
    return { status: "exact", welfare: welfare(scenario, allocations), allocations };
  }
  const contract: Contract = { ...scenario.contract, fees: { ...scenario.contract.fees, fixed: 0 } };
  const mustJoin = agents.map((a) => valuationValue(a.valuation, 0) === Number.NEGATIVE_INFINITY);
  const evaluate = (
    members: readonly boolean[],
  ): { welfare: number; allocations: { agent: AgentId; x: number }[] } => {
    const chosen = agents.filter((_, i) => members[i]);
    const solved = chosen.length > 0 ? solveReference({ contract, agents: chosen }).allocations : [];
    const xs = new Map(solved.map((s) => [s.agent as string, s.x]));
    const allocations = agents.map((a) => ({ agent: asAgentId(a.id), x: xs.get(a.id) ?? 0 }));
    return { welfare: welfare(scenario, allocations), allocations };
  };
  if (agents.length <= EXACT_SEARCH_AGENTS) {
    let best: ReturnType<typeof evaluate> | null = null;
    for (let mask = 0; mask < 1 << agents.length; mask++) {
      const members = agents.map((_, i) => ((mask >> i) & 1) === 1);
      if (members.some((m, i) => !m && mustJoin[i])) continue;
      const e = evaluate(members);
      if (best === null || e.welfare > best.welfare) best = e;
    }
    if (best === null) throw new Error("unreachable: the full participation set is always tried");
    return { status: "exact", ...best };
  }
  const members = agents.map(() => true);
  let current = evaluate(members);
  for (;;) {
    let improved: { index: number; result: ReturnType<typeof evaluate> } | null = null;
    for (let i = 0; i < agents.length; i++) {
      if (!members[i] || mustJoin[i]) continue;
      members[i] = false;
      const e = evaluate(members);
      members[i] = true;
      if (e.welfare > (improved?.result.welfare ?? current.welfare)) improved = { index: i, result: e };
    }
    if (improved === null) break;
    members[improved.index] = false;
    current = improved.result;
  }
  return { status: "approximate", ...current };
}

function canonicalAgents(scenario: Scenario): ScenarioAgent[] {
  return [...scenario.agents].sort((a, b) => compareIds(a.id, b.id));
}
