import type { AgentProfile } from "../economics/agent.ts";
import type { Signer } from "../wire/agent-key.ts";
import type { ByzantineFault } from "./byzantine-member.ts";
import type { SimulatedNetwork } from "./simulated-network.ts";
import { strangerAlive } from "./stranger-message.ts";

/**
 * What can go wrong in a simulated run, at a virtual time, and how each is done to the network.
 * Starting an agent is not a fault (see schedule.ts); everything that later changes who is up,
 * who can reach whom, or how fast someone speaks is.
 */
export type Fault =
  /** The process dies; its store survives. */
  | { readonly at: number; readonly type: "crash"; readonly agent: string }
  /** A crashed agent starts again on its store (replay, then resume). */
  | { readonly at: number; readonly type: "restart"; readonly agent: string }
  /** A graceful stop: the agent announces its leave, then is gone for good. */
  | { readonly at: number; readonly type: "leave"; readonly agent: string }
  /** Agents in different groups cannot reach each other until the next heal. */
  | { readonly at: number; readonly type: "partition"; readonly groups: readonly (readonly string[])[] }
  | { readonly at: number; readonly type: "heal" }
  /** Everything the agent sends takes `ms` longer from now on (0: normal again). */
  | { readonly at: number; readonly type: "slow"; readonly agent: string; readonly ms: number }
  /** The agent receives nothing from now on while what it sends still goes out (false: hears again). */
  | { readonly at: number; readonly type: "deaf"; readonly agent: string; readonly deaf: boolean }
  /**
   * A throwaway key's `alive` of made-up epoch `epoch` reaches the agent (a founder, before it
   * founds: the founding gate, protocol §9.3) and no one else; `key` seeds the key.
   */
  | {
      readonly at: number;
      readonly type: "stranger";
      readonly agent: string;
      readonly epoch: number;
      readonly key: number;
    }
  /** The agent re-sends old messages from its store, or garbled ones (byzantine-member.ts). */
  | ByzantineFault;

/** An agent's key and economics: what a restart needs to rebuild its machine. */
export interface AgentKeys {
  readonly signer: Signer;
  readonly profile: AgentProfile;
}

export function applyFault(net: SimulatedNetwork, fault: Fault, keys: (agent: string) => AgentKeys): void {
  if (fault.type === "heal") {
    net.heal();
    return;
  }
  if (fault.type === "partition") {
    net.partition(fault.groups.map((g) => g.map((name) => ({ name }))));
    return;
  }
  const node = net.node(fault.agent);
  if (!node) throw new Error(`fault at ${fault.at}: ${fault.type} of ${fault.agent}, who was never started`);
  if (fault.type === "crash") net.crash(node);
  else if (fault.type === "leave") net.leave(node);
  else if (fault.type === "slow") net.slow(node, fault.ms);
  else if (fault.type === "deaf") net.deafen(node, fault.deaf);
  else if (fault.type === "replay" || fault.type === "forge") net.resend(node, fault.count, fault.type);
  else if (fault.type === "stranger") net.injectTo(node, strangerAlive(net.contract, fault.epoch, fault.key));
  else {
    const { signer, profile } = keys(fault.agent);
    net.restart(node, profile, signer);
  }
}

/** The agents still in the market once every fault is over: started, not left, not crashed for good. */
export function survivors(agents: readonly string[], faults: readonly Fault[]): string[] {
  const gone = new Set<string>();
  for (const f of faults) {
    if (f.type === "crash" || f.type === "leave") gone.add(f.agent);
    else if (f.type === "restart") gone.delete(f.agent);
  }
  return agents.filter((a) => !gone.has(a));
}

/** Agents that left gracefully: they consent to the rest going on without them. */
export function leavers(faults: readonly Fault[]): Set<string> {
  return new Set(faults.flatMap((f) => (f.type === "leave" ? [f.agent] : [])));
}
