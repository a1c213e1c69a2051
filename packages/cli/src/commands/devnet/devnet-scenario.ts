import { type PriceRule, paperScenario, type Scenario, scenarioSchema } from "@walras/protocol";

export interface DevnetScenarioOptions {
  readonly nodes: number;
  readonly seed?: number;
  readonly rule?: PriceRule["kind"];
}

/**
 * The devnet's default market: paper-style agents (log valuations, linear costs) on one resource
 * whose capacity, 1.5 units per agent, is below what they would take at a zero price, so the price
 * is positive and the network has something to find. No fixed fee (so an exact equilibrium exists),
 * the first epoch waits for every node, and short timeouts suit loopback.
 */
export function devnetScenario(options: DevnetScenarioOptions): Scenario {
  const { nodes, seed = 1, rule = "newton" } = options;
  const base = paperScenario({ agents: nodes, capacity: nodes * 1.5, seed, tau: 0.5, g: 0, rule });
  return scenarioSchema.parse({
    ...base,
    contract: {
      ...base.contract,
      name: `devnet n=${nodes} seed=${seed}`,
      minMembers: nodes,
      timeouts: { roundMs: 3_000, announceMs: 300 },
    },
  });
}

/**
 * A scenario from a file, made to run as a devnet: every agent is a node, so the first epoch waits
 * for all of them (a smaller minMembers would certify a partial market first), and `rule`, when
 * given, replaces the contract's price rule.
 */
export function devnetScenarioFrom(scenario: Scenario, rule?: PriceRule["kind"]): Scenario {
  return scenarioSchema.parse({
    ...scenario,
    contract: {
      ...scenario.contract,
      minMembers: scenario.agents.length,
      ...(rule ? { priceRule: { kind: rule } } : {}),
    },
  });
}
