import type { Contract, PriceRule } from "../wire/contract.ts";
import { type AgentId, asAgentId, compareIds } from "../wire/ids.ts";
import type { ScenarioAgent } from "./agent.ts";
import { activityCap, bestResponseAtUnitPrice, unitPrice } from "./best-response.ts";
import { initialPriceRuleState, type PackedDemands, stepPricesPacked } from "./price-rule.ts";
import type { Scenario } from "./scenario.ts";

export interface SimulationOptions {
  /** Overrides the contract's price rule. */
  readonly rule?: PriceRule;
  /** Overrides the contract's maxRounds. */
  readonly maxRounds?: number;
  readonly recordPath?: boolean;
}

export type SimulationStatus = "converged" | "round-limit" | "stalled" | "not-binding";

export interface SimulationResult {
  status: SimulationStatus;
  /** Demand rounds run (round k evaluates every best response at p^k). */
  rounds: number;
  /** p*: the prices the reported allocations answer. */
  prices: number[];
  /** In canonical (agent id) order. */
  allocations: { agent: AgentId; x: number }[];
  supply: number[];
  residual: number;
  /** Prices and residual of every round, when recordPath. */
  path?: { prices: number[]; residual: number }[];
  note?: string;
}

/**
 * Runs the protocol's round loop without a network: every round each agent answers p^k with its
 * bestResponse (proximal from its previous x when the contract sets gamma), then the price rule
 * steps from the reported demands alone. The same functions, in the same canonical order, as the
 * nodes run.
 *
 * Status: "converged" when the stopping rule holds at some p^k with a positive price; "not-binding"
 * when it holds with every price 0 (S(0) <= m: capacity does not bind); "stalled" when the stall
 * rule (stall-rule.ts) gives up first, as the network would, and "round-limit" at maxRounds — both
 * reporting the round with the smallest gap seen (its residual; under a proximal contract the larger
 * of residual and drift, price-rule.ts). With a fixed fee g > 0 demand jumps where
 * agents enter or leave, so a price that clears exactly may not exist; the note then says so.
 */
export function simulate(scenario: Scenario, options: SimulationOptions = {}): SimulationResult {
  const contract: Contract =
    options.rule === undefined ? scenario.contract : { ...scenario.contract, priceRule: options.rule };
  const maxRounds = options.maxRounds ?? contract.maxRounds;
  const R = contract.resources.length;
  const agents = [...scenario.agents].sort((a, b) => compareIds(a.id, b.id));
  const n = agents.length;
  const footprint = new Float64Array(n * R);
  const caps = new Float64Array(n);
  agents.forEach((a, i) => {
    for (let r = 0; r < R; r++) footprint[i * R + r] = a.footprint[r] ?? 0;
    caps[i] = activityCap(a, contract);
  });
  const demands: PackedDemands = {
    count: n,
    x: new Float64Array(n),
    slope: new Float64Array(n),
    footprint,
    exitPrice: new Float64Array(n),
    exitSlope: new Float64Array(n),
  };
  const previous = new Float64Array(n);
  let prices = [...contract.initialPrices];
  if (prices.length !== R)
    throw new RangeError(`contract.initialPrices: ${prices.length} entries, ${R} resources`);
  let state = initialPriceRuleState(contract);
  const path: { prices: number[]; residual: number }[] = [];
  let best: { prices: number[]; x: Float64Array; supply: number[]; residual: number; gap: number } | null =
    null;

  for (let k = 0; k < maxRounds; k++) {
    respond(agents, contract, prices, k > 0 ? previous : null, caps, demands);
    const step = stepPricesPacked(contract, state, prices, demands);
    if (options.recordPath) path.push({ prices, residual: step.residual });
    if (step.converged) {
      const notBinding = prices.every((p) => p === 0);
      return finish(agents, {
        status: notBinding ? "not-binding" : "converged",
        rounds: k + 1,
        prices,
        x: demands.x,
        supply: step.supply,
        residual: step.residual,
        path: options.recordPath ? path : undefined,
      });
    }
    if (best === null || step.gap < best.gap)
      best = {
        prices,
        x: Float64Array.from(demands.x),
        supply: step.supply,
        residual: step.residual,
        gap: step.gap,
      };
    if (step.stall !== null && k + 1 < maxRounds) {
      return finish(agents, {
        status: "stalled",
        rounds: k + 1,
        prices: best.prices,
        x: best.x,
        supply: best.supply,
        residual: best.residual,
        path: options.recordPath ? path : undefined,
        note: `stalled after ${k + 1} rounds (${step.stall}): ${noExactPriceNote(contract.fees.fixed, best.residual)}`,
      });
    }
    previous.set(demands.x);
    prices = step.prices;
    state = step.state;
  }
  if (best === null) throw new RangeError(`maxRounds must be >= 1, got ${maxRounds}`);
  const fee = contract.fees.fixed;
  return finish(agents, {
    status: "round-limit",
    rounds: maxRounds,
    prices: best.prices,
    x: best.x,
    supply: best.supply,
    residual: best.residual,
    path: options.recordPath ? path : undefined,
    note: `no convergence in ${maxRounds} rounds: ${noExactPriceNote(fee, best.residual)}`,
  });
}

function noExactPriceNote(fee: number, residual: number): string {
  return fee > 0
    ? `the fixed fee g = ${fee} makes demand jump as agents enter or leave, so prices that clear exactly may not exist; reporting the approximate equilibrium with the smallest residual seen, ${residual.toExponential(3)}`
    : `reporting the round with the smallest residual seen, ${residual.toExponential(3)}`;
}

/** Every agent's best response at `prices`, into `out` (the hot loop: no per-agent arrays). */
function respond(
  agents: readonly ScenarioAgent[],
  contract: Contract,
  prices: readonly number[],
  previous: Float64Array | null,
  caps: Float64Array,
  out: PackedDemands,
): void {
  const gamma = previous === null ? 0 : contract.proximal;
  const fee = contract.fees.fixed;
  for (let i = 0; i < agents.length; i++) {
    const a = agents[i] as ScenarioAgent;
    const d = bestResponseAtUnitPrice(
      a.valuation,
      a.cost,
      unitPrice(a, contract, prices),
      gamma,
      previous === null ? 0 : (previous[i] as number),
      fee,
      caps[i] as number,
    );
    out.x[i] = d.x;
    out.slope[i] = d.slope;
    if (out.exitPrice !== undefined && out.exitSlope !== undefined) {
      out.exitPrice[i] = d.exit?.price ?? 0;
      out.exitSlope[i] = d.exit?.slope ?? 0;
    }
  }
}

function finish(
  agents: readonly ScenarioAgent[],
  r: {
    status: SimulationStatus;
    rounds: number;
    prices: number[];
    x: Float64Array;
    supply: number[];
    residual: number;
    path: { prices: number[]; residual: number }[] | undefined;
    note?: string;
  },
): SimulationResult {
  const result: SimulationResult = {
    status: r.status,
    rounds: r.rounds,
    prices: r.prices,
    allocations: agents.map((a, i) => ({ agent: asAgentId(a.id), x: r.x[i] as number })),
    supply: r.supply,
    residual: r.residual,
  };
  if (r.path) result.path = r.path;
  if (r.note) result.note = r.note;
  return result;
}
