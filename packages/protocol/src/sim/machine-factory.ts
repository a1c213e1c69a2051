import type { AgentProfile } from "../economics/agent.ts";
import type { Demand } from "../economics/demand.ts";
import { type AgentMachine, createAgentMachine } from "../machine/agent-machine.ts";
import type { Signer } from "../wire/agent-key.ts";
import type { Contract } from "../wire/contract.ts";
import type { WireMessage } from "../wire/messages.ts";

/**
 * How a simulated node was started. A founder is started without bootstrap peers (it may found
 * the first epoch, docs/protocol.md §9); a joiner is started pointing at the network and only joins.
 */
export type MachineRole = "founder" | "joiner";

/** Everything a simulated node's machine is built from. */
export interface MachineSpec {
  readonly contract: Contract;
  /** The node's key: absent for an observer that does not found (it never signs). */
  readonly signer?: Signer;
  /** Absent for an observer (follows and verifies, never bids). */
  readonly profile?: AgentProfile;
  readonly now: number;
  readonly role: MachineRole;
  /** A signature check to use instead of verifyMessage (the simulator's memo of it). */
  readonly verify?: (message: WireMessage) => boolean;
  /** FAULT INJECTION: makes the node a lying member (see AgentMachineConfig). */
  readonly misreport?: (demand: Demand, round: number, unitPrice: number) => Demand;
  /** The wire's cap on a message (see AgentMachineConfig); default the wire's. */
  readonly maxMessageBytes?: number;
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
    ...(spec.signer ? { signer: spec.signer } : {}),
    ...(spec.profile ? { profile: spec.profile } : {}),
    founder: spec.role === "founder",
    ...(spec.verify ? { verify: spec.verify } : {}),
    ...(spec.misreport ? { misreport: spec.misreport } : {}),
    ...(spec.maxMessageBytes !== undefined ? { maxMessageBytes: spec.maxMessageBytes } : {}),
  });
