import type { NodeStatus } from "@walras/node";
import {
  type AgentProfile,
  type Contract,
  contractSchema,
  paperScenario,
  scenarioSchema,
} from "@walras/protocol";

/** A running network of walras nodes, however they are hosted, as the bench observes it. */
export interface BenchCluster {
  readonly size: number;
  /** Every node's /status, in node order; null for a node that did not answer this time. */
  statuses(): Promise<(NodeStatus | null)[]>;
  /** Every node's Prometheus exposition, in node order. */
  metrics(): Promise<string[]>;
  /** CPU time (user + system, ms) spent so far by the processes that run the nodes. */
  cpuMs(): number;
  /** Gives node `i`'s agent a new bid through the node's market API (it takes effect next slot). */
  rebid(i: number, profile: AgentProfile): Promise<void>;
  stop(): Promise<void>;
}

/** The market a bench network runs: the paper's agents, newton, one epoch of every node. */
export interface BenchMarket {
  readonly contract: Contract;
  readonly agents: readonly AgentProfile[];
}

/**
 * `minMembers = n`: the first epoch waits for every node, so a run measures one n-member market
 * and not a series of growing epochs. Capacity 1.5 n makes the resource bind (p* > 0). Newton with
 * the curve model, as a contract made by `walras contract create` or `walras devnet` has it. Joiners
 * re-announce every `announceMs` until an epoch admits them: the contract's default of 1 s, since
 * at 250 ms the announcements of 25 waiting nodes alone kept both cores of the bench machine busy.
 */
export function benchMarket(n: number, seed: number, roundMs = 5_000): BenchMarket {
  const scenario = scenarioSchema.parse(
    paperScenario({ agents: n, capacity: Math.round(n * 1.5), seed, g: 0 }),
  );
  const contract = contractSchema.parse({
    ...scenario.contract,
    priceRule: { kind: "newton", model: "curves" },
    minMembers: n,
    timeouts: { roundMs, announceMs: 1_000 },
  });
  return { contract, agents: scenario.agents.map(({ id: _id, ...profile }) => profile) };
}
