import type { AgentId } from "../wire/ids.ts";
import { leavers, survivors } from "./fault-model.ts";
import { lastChange, maxDelay, type Schedule } from "./schedule.ts";
import type { SimNode } from "./simulated-network.ts";

/**
 * The liveness promise the simulator checks: once the last fault is over (partitions healed,
 * crashed agents restarted or gone for good, joins and leaves done), every live agent holds a
 * certificate for an epoch whose members are exactly the live agents, within `livenessBound`.
 */

/** Rounds a newton market needs, with room (it takes 5-15). */
export const EXACT_ROUNDS = 20;
/** Rounds without improvement after which an epoch settles approximate (the machine's stall rule). */
export const STALL_ROUNDS = 50;
/** Epoch changes allowed after the last fault (a restarted or dropped agent re-joins, then one more). */
export const EPOCH_CHANGES = 2;

/**
 * The bound, in virtual ms after the last change, with D the longest a message takes (latency +
 * jitter + the slowest member's delay) and the contract's roundMs and announceMs:
 *
 *   membership = EPOCH_CHANGES × (3·roundMs + 2·announceMs + 6·D)
 *     silence is noticed after roundMs, a joiner that does not echo is left out for 2·roundMs,
 *     a joiner re-announces every announceMs and a proposal settles in a few message delays;
 *   market = rounds × (roundMs/2 + 3·D)
 *     rounds = EXACT_ROUNDS, plus STALL_ROUNDS with a fixed fee (no exact clearing price); a
 *     round closes in one delay, or, when a demand was lost, after the sync at roundMs/2 and its
 *     reply (2·D);
 *   commit = roundMs/2 + 3·D   (a lost commit is fetched by the sync at roundMs/2).
 */
export function livenessBound(schedule: Schedule): number {
  const { roundMs, announceMs } = schedule.contract.timeouts;
  const d = maxDelay(schedule);
  const rounds = EXACT_ROUNDS + (schedule.contract.fees.fixed > 0 ? STALL_ROUNDS : 0);
  const membership = EPOCH_CHANGES * (3 * roundMs + 2 * announceMs + 6 * d);
  const perRound = roundMs / 2 + 3 * d;
  return Math.ceil(membership + rounds * perRound + perRound);
}

/** When liveness must hold: the last change plus the bound. */
export function livenessDeadline(schedule: Schedule): number {
  return lastChange(schedule) + livenessBound(schedule);
}

/** The names of the agents that stay in the market. */
export function liveAgents(schedule: Schedule): string[] {
  return survivors(
    schedule.agents.map((a) => a.name),
    schedule.faults,
  );
}

/** Every live node's latest certificate names exactly the live agents. */
export function livenessHolds(nodes: readonly SimNode[], live: ReadonlySet<AgentId>): boolean {
  for (const node of nodes) {
    if (!node.id || !live.has(node.id)) continue;
    const cert = node.machine.certificates().at(-1);
    if (!cert || cert.commit.members.length !== live.size) return false;
    if (!cert.commit.members.every((m) => live.has(m as AgentId))) return false;
  }
  return true;
}

/**
 * Why liveness cannot be asked for, or null when it can: a live node's epoch has lost its
 * majority for good (agents gone without leaving), and no protocol that keeps one equilibrium per
 * epoch may move on without one. Graceful leavers consent and do not count.
 */
export function noMajority(
  schedule: Schedule,
  nodes: readonly SimNode[],
  live: ReadonlySet<AgentId>,
  nameOf: (id: string) => string,
): string | null {
  const left = leavers(schedule.faults);
  for (const node of nodes) {
    if (!node.id || !live.has(node.id)) continue;
    const members = node.machine.status().members.filter((m) => !left.has(nameOf(m)));
    const alive = members.filter((m) => live.has(m)).length;
    if (members.length > 0 && alive * 2 <= members.length)
      return `${node.name}'s epoch ${node.machine.status().epoch} has ${alive} of ${members.length} members alive`;
  }
  return null;
}
