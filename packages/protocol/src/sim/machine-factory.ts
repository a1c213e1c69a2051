import type { AgentProfile } from "../economics/agent.ts";
import { type AgentMachine, createAgentMachine } from "../machine/agent-machine.ts";
import type { Signer } from "../wire/agent-key.ts";
import type { Contract } from "../wire/contract.ts";
import type { WireMessage } from "../wire/messages.ts";

/**
 * How a simulated node was started. A founder is started without bootstrap peers (it may found
 * the first epoch); a joiner is started pointing at the network and only joins. The current
 * machine has no such setting yet, so both build the same machine today.
 */
export type MachineRole = "founder" | "joiner";

/** Everything a simulated node's machine is built from. */
export interface MachineSpec {
  readonly contract: Contract;
  /** Absent for an observer (follows and verifies, never signs). */
  readonly agent?: { readonly signer: Signer; readonly profile: AgentProfile };
  readonly now: number;
  readonly role: MachineRole;
  /** A signature check to use instead of verifyMessage (the simulator's memo of it). */
  readonly verify?: (message: WireMessage) => boolean;
}

export type MachineFactory = (spec: MachineSpec) => AgentMachine;

/**
 * The one place the simulator builds machines (start, restart, observers): a change of the
 * machine's configuration is made here once.
 */
export const buildMachine: MachineFactory = (spec) =>
  createAgentMachine({
    contract: spec.contract,
    now: spec.now,
    ...(spec.agent ? { agent: spec.agent } : {}),
    ...(spec.verify ? { verify: spec.verify } : {}),
  });
