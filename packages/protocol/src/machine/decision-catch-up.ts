import type { AgentId } from "../wire/ids.ts";
import { MAX_SYNC_AGENTS } from "./machine-io.ts";

/**
 * The deciders a catch-up on the decision under way names (docs/protocol.md §9.3), of those it
 * lacks (`EpochDecision.lacking`): all of them when they fit in one request; past MAX_SYNC_AGENTS,
 * the view's proposer first while its proposal is missing (nothing is decided without it), then
 * the others in turns, the `turn`-th ask taking the next ones cyclically, so that successive asks
 * cover every lacking decider. Unnamed, a request past the cap asks for the whole epoch: at 100
 * deciders a node that held 40 accepts of the 50 it needed got a proposal it held and ~100 accepts
 * in every answer, where 32 named ones bring what it lacks.
 */
export function catchUpNames(
  lacking: readonly AgentId[],
  proposer: AgentId,
  turn: number,
): readonly AgentId[] {
  if (lacking.length <= MAX_SYNC_AGENTS) return lacking;
  const first = lacking.includes(proposer) ? [proposer] : [];
  const rest = lacking.filter((id) => id !== proposer);
  const room = MAX_SYNC_AGENTS - first.length;
  const start = (turn * room) % rest.length;
  return [...first, ...Array.from({ length: room }, (_, i) => rest[(start + i) % rest.length] as AgentId)];
}
