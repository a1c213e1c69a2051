import type { AgentProfile } from "../../economics/agent.ts";
import { paperScenario } from "../../economics/paper-scenario.ts";
import { type Scenario, scenarioSchema } from "../../economics/scenario.ts";
import { type Contract, contractSchema, type NewtonModel } from "../../wire/contract.ts";

/**
 * The market of a scale run: the paper's agents (log valuations, linear costs, one resource),
 * capacity 1.5 n so that the price binds, no fixed fee (an exact equilibrium exists), newton, and
 * a first epoch of all n agents (minMembers = n), as the network bench runs it.
 *
 * The round timeout must exceed the CPU time a round costs a node (about 2 n messages at the
 * modelled cost), or the rounds of a large market time out and drop members: it is scaled as
 * max(4 s, 4 × 2 n × cost). `model` picks the newton rule's model (hinges, the default, or sums:
 * what committee aggregates can feed, docs/scaling.md §2). Everything else is the contract's default.
 */
export interface ScaleScenario {
  readonly contract: Contract;
  /** For the reference solver: the same agents, in start order. */
  readonly scenario: Scenario;
  readonly profiles: readonly AgentProfile[];
}

export function scaleScenario(
  agents: number,
  seed: number,
  cpuPerMessageMs: number,
  model: NewtonModel = "hinges",
): ScaleScenario {
  const scenario = scenarioSchema.parse(
    paperScenario({ agents, capacity: Math.round(agents * 1.5), seed, g: 0 }),
  );
  const roundMs = Math.max(4_000, Math.ceil(4 * 2 * agents * cpuPerMessageMs));
  const contract = contractSchema.parse({
    ...scenario.contract,
    minMembers: agents,
    timeouts: { roundMs, announceMs: 1_000 },
    ...(model === "sums" ? { priceRule: { kind: "newton", model } } : {}),
  });
  const profiles = scenario.agents.map(({ id: _id, ...profile }) => profile);
  return { contract, scenario: { ...scenario, contract }, profiles };
}
