import type { AgentId } from "../wire/ids.ts";
import { MAX_SYNC_AGENTS } from "./machine-io.ts";

/**
 * The deciders a catch-up on the decision under way names (docs/protocol.md §9.3), of those it
 * lacks (`EpochDecision.lacking`, distinct): all of them when they fit in one request; past
 * MAX_SYNC_AGENTS, the proposer whose proposal is missing first (nothing is decided without it;
 * null: none is), then the others in turns, the `turn`-th ask taking the next ones cyclically, so
 * that while the same ones are lacking successive asks name each of them. Unnamed, a request past
 * the cap asks for the whole epoch: at 100 deciders a node that held 40 of the 50 accepts it needed
 * got the proposal it held and ~100 accepts in every answer, where 32 named bring part of what it
 * lacks and nothing it holds.
 */
export function catchUpNames(
  lacking: readonly AgentId[],
  proposer: AgentId | null,
  turn: number,
): readonly AgentId[] {
  if (lacking.length <= MAX_SYNC_AGENTS) return lacking;
  const first = proposer !== null && lacking.includes(proposer) ? [proposer] : [];
  const rest = lacking.filter((id) => id !== proposer);
  const room = MAX_SYNC_AGENTS - first.length;
  const start = (turn * room) % rest.length;
  return [...first, ...Array.from({ length: room }, (_, i) => rest[(start + i) % rest.length] as AgentId)];
}
