import { paperScenario, type Scenario, scenarioSchema } from "@walras/protocol";
import { type PriceRuleFlags, priceRuleFrom } from "../../price-rule-flags.ts";

export interface DevnetScenarioOptions {
  readonly nodes: number;
  readonly seed?: number;
  /** `--rule` and `--newton-model`. */
  readonly rule?: PriceRuleFlags;
}

/**
 * The devnet's default market: paper-style agents (log valuations, linear costs) on one resource
 * whose capacity, 1.5 units per agent, is below what they would take at a zero price, so the price
 * is positive and the network has something to find. No fixed fee (so an exact equilibrium exists),
 * the first epoch waits for every node, and short timeouts suit loopback.
 */
export function devnetScenario(options: DevnetScenarioOptions): Scenario {
  const { nodes, seed = 1, rule = {} } = options;
  const base = paperScenario({ agents: nodes, capacity: nodes * 1.5, seed, tau: 0.5, g: 0 });
  const priceRule = priceRuleFrom(undefined, rule, "devnet");
  return scenarioSchema.parse({
    ...base,
    contract: {
      ...base.contract,
      ...(priceRule ? { priceRule } : {}),
      name: `devnet n=${nodes} seed=${seed}`,
      minMembers: nodes,
      timeouts: { roundMs: 3_000, announceMs: 300 },
    },
  });
}

/**
 * A scenario from a file, made to run as a devnet: every agent is a node, so the first epoch waits
 * for all of them (a smaller minMembers would certify a partial market first), and the price-rule
 * flags, when given, replace the contract's price rule.
 */
export function devnetScenarioFrom(scenario: Scenario, rule: PriceRuleFlags = {}): Scenario {
  const priceRule = priceRuleFrom(scenario.contract.priceRule, rule, "devnet");
  return scenarioSchema.parse({
    ...scenario,
    contract: {
      ...scenario.contract,
      minMembers: scenario.agents.length,
      ...(priceRule ? { priceRule } : {}),
    },
  });
}
