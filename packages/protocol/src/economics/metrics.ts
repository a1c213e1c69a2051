import { compareIds } from "../wire/ids.ts";
import { payoff } from "./best-response.ts";
import { welfare, welfareOptimum } from "./reference-solver.ts";
import type { Scenario } from "./scenario.ts";
import { relativeResidual } from "./stopping-rule.ts";

/** What a mechanism decided: a price per resource (zeros where it posts none) and an activity level per agent. */
export interface MarketOutcome {
  readonly prices: readonly number[];
  readonly allocations: readonly { readonly agent: string; readonly x: number }[];
}

/** How good an outcome is. Every field is defined in docs/economics.md §Metrics. */
export interface Metrics {
  /** Eff = sum_i (V_i(x_i) - C_i(x_i)) - tau * sum_i x_i - g * #active. Prices are transfers and do not enter. */
  readonly efficiency: number;
  /** Eff at the welfare optimum of the scenario (reference-solver's welfareOptimum); null when not asked for. */
  readonly optimum: number | null;
  /** optimum - efficiency: >= 0 up to solver tolerance (and up to welfareOptimum's own status). */
  readonly welfareGap: number | null;
  /** welfareGap / |optimum| (0 when the optimum is 0). */
  readonly relativeWelfareGap: number | null;
  /** Gini coefficient of the activity levels: 0 equal shares, at most 1 - 1/n. 0 when nobody is active. */
  readonly gini: number;
  /** Jain's fairness index (sum x)^2 / (n sum x^2), in [1/n, 1]. 1 when nobody is active. */
  readonly jain: number;
  /** Fraction of agents with x_i > 0. */
  readonly participation: number;
  /** Number of agents that envy some other agent's activity level at the outcome's prices (see envyCount). */
  readonly envy: number;
  /** S_r = sum_i a_ir x_i, per resource in the contract's order. */
  readonly supply: readonly number[];
  /**
   * The stopping rule's relative residual: max_r |S_r - m_r| / m_r where p_r > 0, and
   * max(0, S_r - m_r) / m_r where p_r = 0 (spare capacity at a zero price is fine).
   */
  readonly residual: number;
}

export interface MetricsOptions {
  /**
   * The scenario's welfare optimum, when the caller already has it (experiments reuse it across
   * mechanisms); null skips the welfare gap (the optimum is the costly part); absent computes it.
   */
  readonly optimum?: number | null;
}

export function computeMetrics(
  scenario: Scenario,
  outcome: MarketOutcome,
  options: MetricsOptions = {},
): Metrics {
  const levels = orderedLevels(scenario, outcome);
  const efficiency = welfare(
    scenario,
    levels.map((l) => ({ agent: l.agent.id, x: l.x })),
  );
  const optimum = options.optimum === undefined ? welfareOptimum(scenario).welfare : options.optimum;
  const welfareGap = optimum === null ? null : optimum - efficiency;
  const xs = levels.map((l) => l.x);
  const supply = supplyOf(scenario, levels);
  return {
    efficiency,
    optimum,
    welfareGap,
    relativeWelfareGap:
      optimum === null || welfareGap === null ? null : optimum === 0 ? 0 : welfareGap / Math.abs(optimum),
    gini: gini(xs),
    jain: jainIndex(xs),
    participation: xs.filter((x) => x > 0).length / xs.length,
    envy: envyCount(scenario, outcome.prices, levels),
    supply,
    residual: relativeResidual(
      supply,
      scenario.contract.resources.map((r) => r.capacity),
      scenario.contract.resources.map((_, r) => outcome.prices[r] ?? 0),
    ),
  };
}

type Level = { readonly agent: Scenario["agents"][number]; readonly x: number };

/** Pairs each scenario agent with its level, in canonical id order so every sum is reproducible. */
function orderedLevels(scenario: Scenario, outcome: MarketOutcome): Level[] {
  const byId = new Map(outcome.allocations.map((a) => [a.agent, a.x]));
  return [...scenario.agents]
    .sort((a, b) => compareIds(a.id, b.id))
    .map((agent) => {
      const x = byId.get(agent.id);
      if (x === undefined) throw new RangeError(`no allocation for agent ${agent.id}`);
      if (!(x >= 0)) throw new RangeError(`allocation of agent ${agent.id} must be >= 0, got ${x}`);
      return { agent, x };
    });
}

function supplyOf(scenario: Scenario, levels: readonly Level[]): number[] {
  return scenario.contract.resources.map((_, r) => {
    let s = 0;
    for (const { agent, x } of levels) s += (agent.footprint[r] ?? 0) * x;
    return s;
  });
}

/** Gini coefficient, sum_ij |x_i - x_j| / (2 n^2 mean), from the sorted values in O(n log n). */
export function gini(xs: readonly number[]): number {
  const n = xs.length;
  const total = xs.reduce((s, x) => s + x, 0);
  if (n === 0 || total <= 0) return 0;
  const sorted = [...xs].sort((a, b) => a - b);
  let weighted = 0;
  sorted.forEach((x, i) => {
    weighted += (i + 1) * x;
  });
  return Math.max(0, (2 * weighted) / (n * total) - (n + 1) / n);
}

/** Jain's index (sum x)^2 / (n sum x^2); 1 (perfectly even) when every x is 0. */
export function jainIndex(xs: readonly number[]): number {
  const n = xs.length;
  const sum = xs.reduce((s, x) => s + x, 0);
  const squares = xs.reduce((s, x) => s + x * x, 0);
  if (n === 0 || squares === 0) return 1;
  return (sum * sum) / (n * squares);
}

/**
 * Agent i envies agent j when i would be strictly better off with j's activity level on i's own
 * terms: U_i(x_j; p) > U_i(x_i; p) + 1e-9 (1 + |U_i(x_i; p)|), with
 * U_i(x; p) = V_i(x) - C_i(x) - (tau + a_i.p) x - g 1{x > 0}. Counts the agents that envy at least
 * one other. Every agent on its best response envies nobody, so a price mechanism scores 0 and a
 * rationing one scores the agents it held below what they would pay for.
 */
export function envyCount(scenario: Scenario, prices: readonly number[], levels: readonly Level[]): number {
  const distinct = [...new Set(levels.map((l) => l.x))];
  let count = 0;
  for (const { agent, x } of levels) {
    const own = payoff(agent, scenario.contract, prices, x);
    const tolerance = 1e-9 * (1 + Math.abs(own));
    if (distinct.some((y) => y !== x && payoff(agent, scenario.contract, prices, y) > own + tolerance))
      count++;
  }
  return count;
}
