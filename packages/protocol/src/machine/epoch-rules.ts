import { canonicalJson } from "../wire/canonical-json.ts";
import { sha256Hex } from "../wire/hash.ts";
import { type AgentId, compareIds } from "../wire/ids.ts";
import type { EpochBase, EpochMessage } from "../wire/messages.ts";

/**
 * How a set of peers with no coordinator agrees on who is in the market (docs/protocol.md §Epochs).
 * An epoch proposal names the members and the base (epoch, round, prices) it starts from. A
 * proposal is *settled* once every member it names has it, identically, as its latest proposal
 * for that epoch: unanimity among the members themselves, so no outsider can make an epoch.
 */
export interface EpochPlan {
  readonly epoch: number;
  readonly members: readonly AgentId[];
  readonly base: EpochBase | null;
}

export function planKey(plan: {
  readonly members: readonly string[];
  readonly base: EpochBase | null;
}): string {
  return sha256Hex(new TextEncoder().encode(canonicalJson({ members: plan.members, base: plan.base })));
}

export function planOf(m: EpochMessage): EpochPlan {
  return { epoch: m.epoch, members: m.members as AgentId[], base: m.base };
}

export function sortedUnique(ids: Iterable<AgentId>): AgentId[] {
  return [...new Set(ids)].sort(compareIds);
}

/**
 * Total order on competing plans for one epoch: the one starting from the later round first (so
 * peers that drifted a round apart converge on the furthest), then more members, then the smaller
 * key. Every node applies the same order, so the same evidence gives the same choice.
 */
export function preferPlan(a: EpochPlan, b: EpochPlan): EpochPlan {
  const ra = a.base ? a.base.round : -1;
  const rb = b.base ? b.base.round : -1;
  if (ra !== rb) return ra > rb ? a : b;
  if (a.members.length !== b.members.length) return a.members.length > b.members.length ? a : b;
  return planKey(a) <= planKey(b) ? a : b;
}

/** Latest proposal per signer for one epoch number (higher seq wins). */
export type ProposalBook = Map<AgentId, EpochMessage>;

export function recordProposal(book: ProposalBook, m: EpochMessage): boolean {
  const prev = book.get(m.agent);
  if (prev && prev.seq >= m.seq) return false;
  book.set(m.agent, m);
  return true;
}

/** The settled plans in a book, best first. */
export function settledPlans(book: ProposalBook): EpochPlan[] {
  const byKey = new Map<string, EpochPlan>();
  for (const m of book.values()) byKey.set(planKey(m), planOf(m));
  const settled = [...byKey.entries()]
    .filter(([key, plan]) =>
      plan.members.every((id) => {
        const latest = book.get(id);
        return latest !== undefined && planKey(latest) === key;
      }),
    )
    .map(([, plan]) => plan);
  return settled.sort((a, b) => (preferPlan(a, b) === a ? -1 : 1));
}

/**
 * A shrinking epoch must keep a strict majority of the previous members: in a partition only
 * one side can move on, so two sides never certify conflicting equilibria for one epoch.
 */
export function keepsMajority(previous: readonly AgentId[], next: readonly AgentId[]): boolean {
  const kept = next.filter((id) => previous.includes(id)).length;
  return kept * 2 > previous.length;
}
