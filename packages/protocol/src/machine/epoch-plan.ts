import { canonicalBytes } from "../wire/canonical-json.ts";
import { sha256Hex } from "../wire/hash.ts";
import { type AgentId, asDigest, compareIds, type Digest } from "../wire/ids.ts";
import type { EpochPlan, WireMessage } from "../wire/messages.ts";

/**
 * The value an epoch decision decides (docs/protocol.md §9): the members of epoch E, the deciders
 * (E−1's members, or the founder alone for E = 0), and the base prices E starts from. Accepts and
 * certificates name a plan by this digest, which binds the epoch number too.
 */
export function planDigest(epoch: number, plan: EpochPlan): Digest {
  return asDigest(sha256Hex(canonicalBytes({ epoch, plan })));
}

/** How many epochs' decisions one sync answer carries. */
export const DECISIONS_PER_SYNC = 64;

/**
 * What a node answers a `decision` sync request with, from the messages it stored: every proposal
 * and accept of epochs [from, from + DECISIONS_PER_SYNC), proposals before accepts within an epoch,
 * epochs in order: the asker adopts them one after another, each checked against the one before.
 */
export function decisionsFrom<M extends { kind: string; epoch: number }>(
  stored: Iterable<M>,
  from: number,
): M[] {
  const rank = (m: M) => (m.kind === "propose" ? 0 : 1);
  return [...stored]
    .filter(
      (m) =>
        (m.kind === "propose" || m.kind === "accept") &&
        m.epoch >= from &&
        m.epoch < from + DECISIONS_PER_SYNC,
    )
    .sort((a, b) => a.epoch - b.epoch || rank(a) - rank(b));
}

/** A strict majority of n deciders: any two such sets share a decider. */
export function majority(n: number): number {
  return Math.floor(n / 2) + 1;
}

/**
 * The one decider allowed to propose in view `view` of epoch `epoch`'s decision. Rotating by the
 * epoch number spreads the role; rotating by view moves past a proposer that crashed.
 */
export function proposerOf(epoch: number, view: number, deciders: readonly AgentId[]): AgentId {
  return deciders[(epoch + view) % deciders.length] as AgentId;
}

/** Epoch 0's plan (docs/protocol.md §9.1): its founder alone decides it and votes; `members` sorted. */
export function foundingPlan(founder: AgentId, members: readonly AgentId[]): EpochPlan {
  return {
    members,
    deciders: [founder],
    voters: [founder],
    base: null,
    terms: null,
    ledger: null,
    cause: ["found"],
  };
}

export function sortedUnique(ids: Iterable<AgentId>): AgentId[] {
  return [...new Set(ids)].sort(compareIds);
}

export function sameIds(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export function isSortedUnique(ids: readonly string[]): boolean {
  for (let i = 1; i < ids.length; i++)
    if (compareIds(ids[i - 1] as string, ids[i] as string) >= 0) return false;
  return true;
}

/** The plan a decision message carries: a proposal's own, or the one a view change reports accepted. */
export function carriedPlan(m: WireMessage): EpochPlan | undefined {
  return m.kind === "propose" ? m.plan : m.kind === "view" ? m.accepted?.plan : undefined;
}
