import {
  computeMetrics,
  type Metrics,
  type NewtonModel,
  type PriceRule,
  type Scenario,
  type SimulationStatus,
  simulate,
  solveReference,
  welfareOptimum,
} from "@walras/protocol";
import { type PriceRuleFlags, priceRuleFrom } from "../../price-rule-flags.ts";

/** What `walras simulate` reports; also its --json shape. Keys are resource and agent ids. */
export interface SimulationReport {
  readonly source: string;
  readonly rule: PriceRule["kind"];
  /** The newton rule's model, when the contract or --newton-model names one. */
  readonly newtonModel?: NewtonModel;
  readonly status: SimulationStatus;
  readonly rounds: number;
  readonly prices: Record<string, number>;
  readonly supply: Record<string, number>;
  readonly capacity: Record<string, number>;
  readonly allocations: Record<string, number>;
  /** Every metric but supply, which is reported per resource above. */
  readonly metrics: Omit<Metrics, "supply">;
  readonly reference: {
    readonly status: string;
    readonly prices: Record<string, number>;
    readonly allocations: Record<string, number>;
    /** max over entries of |ours - reference| / max(|ours|, |reference|, 1): relative, absolute below 1. */
    readonly maxRelativeDifference: { readonly prices: number; readonly allocations: number };
  };
  readonly note?: string;
}

export function buildSimulationReport(
  scenario: Scenario,
  source: string,
  flags: PriceRuleFlags & { readonly maxRounds?: number },
): SimulationReport {
  const rule: PriceRule =
    priceRuleFrom(scenario.contract.priceRule, flags, "simulate") ?? scenario.contract.priceRule;
  const result = simulate(scenario, { rule, maxRounds: flags.maxRounds });
  const reference = solveReference(scenario);
  const optimum = welfareOptimum(scenario).welfare;
  const { supply: _supply, ...metrics } = computeMetrics(scenario, result, { optimum });
  const resourceIds = scenario.contract.resources.map((r) => r.id);
  const byResource = (values: readonly number[]) =>
    Object.fromEntries(resourceIds.map((id, r) => [id, values[r] ?? 0]));
  const byAgent = (allocations: readonly { agent: string; x: number }[]) =>
    Object.fromEntries(allocations.map((a) => [a.agent, a.x]));
  const allocations = byAgent(result.allocations);
  const referenceAllocations = byAgent(reference.allocations);
  return {
    source,
    rule: rule.kind,
    ...(rule.kind === "newton" && rule.model ? { newtonModel: rule.model } : {}),
    status: result.status,
    rounds: result.rounds,
    prices: byResource(result.prices),
    supply: byResource(result.supply),
    capacity: byResource(scenario.contract.resources.map((r) => r.capacity)),
    allocations,
    metrics,
    reference: {
      status: reference.status,
      prices: byResource(reference.prices),
      allocations: referenceAllocations,
      maxRelativeDifference: {
        prices: maxRelativeDifference(result.prices, reference.prices),
        allocations: maxRelativeDifference(
          scenario.agents.map((a) => allocations[a.id] ?? 0),
          scenario.agents.map((a) => referenceAllocations[a.id] ?? 0),
        ),
      },
    },
    ...(result.note ? { note: result.note } : {}),
  };
}

function maxRelativeDifference(ours: readonly number[], theirs: readonly number[]): number {
  let worst = 0;
  ours.forEach((a, i) => {
    const b = theirs[i] ?? 0;
    worst = Math.max(worst, Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1));
  });
  return worst;
}
