import { type Contract, contractId } from "../wire/contract.ts";
import type { AgentId, ContractId } from "../wire/ids.ts";
import type { EpochPlan, WireMessage } from "../wire/messages.ts";
import { slotOf } from "../wire/messages.ts";
import { amendmentProblem } from "../wire/terms.ts";
import { carriedPlan, isSortedUnique, proposerOf, sameIds } from "./epoch-plan.ts";
import type { Verdict } from "./machine-io.ts";
import { planOverflow } from "./plan-fit.ts";
import { planProofsProblem } from "./plan-proofs.ts";
import {
  addressVerdict,
  allowlistVerdict,
  type SharedCheckState,
  signatureVerdict,
} from "./shared-checks.ts";
import type { SlotBook } from "./slot-book.ts";

/** How far ahead of the current round a demand may be and still be held for later. */
export const ROUND_WINDOW = 8;

/** An epoch as validation sees it. */
export interface EpochWindow {
  readonly number: number;
  readonly members: readonly AgentId[];
  readonly memberSet: ReadonlySet<AgentId>;
  /** Who decides the next epoch (docs/protocol.md §9). */
  readonly voters: readonly AgentId[];
  /** The terms in effect in the epoch, and their id. */
  readonly terms: Contract;
  readonly termsId: ContractId;
}

/** What the §5 checks read from the machine; nothing here is written. */
export interface ValidationState extends SharedCheckState {
  /** The wire's cap on a message: a plan must leave every message of its epoch within it. */
  readonly maxMessageBytes: number;
  readonly slots: SlotBook;
  /** The current epoch, or null before the first one is known. */
  readonly epoch:
    | (EpochWindow & { readonly round: number; pricesAt(round: number): readonly number[] | undefined })
    | null;
  /** The epoch before it: its commits are still taken (a certificate may complete after the switch). */
  readonly previous: EpochWindow | null;
  /** Could `agent` be in epoch `epoch` > current: a member now, an agent asking to join, or named by a held plan. */
  couldJoin(agent: AgentId, epoch: number): boolean;
}

/**
 * docs/protocol.md §5, in its order; the first failure decides. Pure: the verdict carries any
 * equivocation evidence, and the caller records it.
 */
export function validate(m: WireMessage, s: ValidationState): Verdict {
  const addressed = addressVerdict(m, s);
  if (addressed) return addressed;

  const slot = s.slots.lookup(m);
  if (slot.state === "duplicate") return ignore("duplicate", slotOf(m));
  const allowed = allowlistVerdict(m, s);
  if (allowed) return allowed;

  // Cheap window checks before the signature, which costs the most.
  const window = windowVerdict(m, s, slot.state === "conflict");
  // A mismatching demand is news (a split, §5.1) and no fault of the peer that forwarded it, so it
  // costs that peer nothing (the node's gossip ignores it): only if its signer really signed it.
  if (window?.verdict === "reject" && window.reason === "price-mismatch")
    return signatureVerdict(m, s) ?? window;
  if (window) return window;

  const signed = signatureVerdict(m, s);
  if (signed) return signed;
  if (slot.state === "conflict")
    return {
      verdict: "reject",
      reason: "equivocation",
      detail: `${m.agent} signed two different messages for ${slotOf(m)}`,
      evidence: { agent: m.agent, slot: slotOf(m), first: slot.first, second: m },
    };
  // After the signer's own signature: a plan's proofs cost up to 2 × MAX_PLAN_PROOFS more checks.
  const proofs = proofsProblem(m, s);
  if (proofs) return reject("bad-proof", proofs);
  return {
    verdict: "accept",
    ...(takenOnTrust(m, s) && { onTrust: true }),
    ...(heldForLater(m, s.epoch?.number ?? null) && { held: true }),
  };
}

/**
 * Whether an accepted `m` was taken without its signer's membership judged: this node holds no
 * epoch yet, or `m` belongs to a later epoch than the ones it judges by and its signer is no member
 * of the current one (a joiner, or one named by a held plan: any key may ask to join). A member of
 * the current epoch is one of the few keys an epoch admitted, not a throwaway one, and its messages
 * for the next epoch are what a lagging node relays in a thin mesh while the epoch changes.
 */
function takenOnTrust(m: WireMessage, s: ValidationState): boolean {
  if (m.kind === "join") return false;
  const e = s.epoch;
  if (!e) return true;
  return laterEpoch(m, e.number) && !e.memberSet.has(m.agent);
}

/**
 * Whether the machine holds an accepted `m` instead of applying it, in a node whose current epoch
 * is `current` (agent-machine.ts routes by this, and the verdict says it, so the two cannot
 * differ): `m` belongs to a later epoch than the ones the node judges by, or the node knows no
 * epoch yet and `m` is no decision message (those wait among the pending decisions, §9.3). A join
 * names no epoch's membership and is never held.
 */
export function heldForLater(m: WireMessage, current: number | null): boolean {
  if (m.kind === "join") return false;
  return current === null ? !isDecision(m) : laterEpoch(m, current);
}

/**
 * Whether `m` belongs to a later epoch than the ones a node in epoch `current` judges by: its
 * current one, and for a decision the next (whose deciders the current one gives). Not a join.
 */
function laterEpoch(m: WireMessage, current: number): boolean {
  return m.epoch > current + (isDecision(m) ? 1 : 0);
}

function isDecision(m: WireMessage): m is WireMessage & { kind: "propose" | "accept" | "view" } {
  return m.kind === "propose" || m.kind === "accept" || m.kind === "view";
}

function proofsProblem(m: WireMessage, s: ValidationState): string | null {
  const plan = carriedPlan(m);
  if (!plan) return null;
  // The members a proof's agent must be among: the epoch the plan follows, when this node holds it.
  const members = s.epoch && m.epoch === s.epoch.number + 1 ? s.epoch.memberSet : null;
  return planProofsProblem(m.epoch, plan, {
    contractId: s.contractId,
    members,
    verify: (d) => s.verify(d),
  });
}

/** `conflict`: a different message is held for the slot (the equivocation check, below, decides). */
function windowVerdict(m: WireMessage, s: ValidationState, conflict: boolean): Verdict | null {
  const e = s.epoch;
  switch (m.kind) {
    case "join":
      return null;
    case "propose":
    case "accept":
    case "view":
      return decisionWindow(m, s);
  }
  if (!e) return null; // held until the first epoch is known
  if (m.epoch > e.number) {
    // Held until that epoch starts, but only from agents who could be in it: otherwise any key
    // could make every node accept, store and forward messages for epochs that never come.
    return s.couldJoin(m.agent, m.epoch)
      ? null
      : ignore("future", `${m.agent} is not in view for epoch ${m.epoch} (current ${e.number})`);
  }
  if (m.kind === "commit" && s.previous && m.epoch === s.previous.number) return commitWindow(m, s.previous);
  // Votes on amendments outlive an epoch change: the previous epoch's are still counted.
  if ((m.kind === "approve" || m.kind === "amend") && s.previous && m.epoch === s.previous.number)
    return amendmentWindow(m, s.previous);
  if (m.epoch < e.number) return ignore("stale", `epoch ${m.epoch} < ${e.number}`);
  if (!e.memberSet.has(m.agent))
    return reject("not-member", `${m.agent} is not a member of epoch ${e.number}`);
  if (m.kind === "commit") return commitWindow(m, e);
  if (m.kind === "approve" || m.kind === "amend") return amendmentWindow(m, e);
  if (m.kind === "leave" || m.kind === "alive" || m.kind === "rebid") return null;
  // A twin of a demand this node accepted is a proof however old its round (§5.1): a probe for a
  // settled round (the best round an approximate commit names) fetches exactly those. It goes on
  // to the signature and equivocation checks, which reject it: it never reaches the market.
  if (m.round < e.round - 1) return conflict ? null : ignore("stale", `round ${m.round} < ${e.round - 1}`);
  if (m.round > e.round + ROUND_WINDOW)
    return ignore("future", `round ${m.round} > ${e.round + ROUND_WINDOW}`);
  const expected = e.pricesAt(m.round);
  if (expected && !samePrices(expected, m.prices))
    return reject("price-mismatch", `demand answers prices other than p^${m.round}`);
  return null;
}

function amendmentWindow(m: WireMessage & { kind: "amend" | "approve" }, e: EpochWindow): Verdict | null {
  if (!e.memberSet.has(m.agent))
    return reject("not-member", `${m.agent} is not a member of epoch ${e.number}`);
  if (m.kind === "approve") return null;
  const problem = amendmentProblem(e.terms, e.termsId, m.terms);
  return problem ? reject("bad-amendment", `amended terms: ${problem}`) : null;
}

function commitWindow(m: WireMessage & { kind: "commit" }, e: EpochWindow): Verdict | null {
  if (!e.memberSet.has(m.agent))
    return reject("not-member", `${m.agent} is not a member of epoch ${e.number}`);
  // A commit's round is the round the epoch settled on, which may lie well behind: not windowed.
  return sameIds(m.members, e.members)
    ? null
    : reject("not-member", `commit names members other than epoch ${e.number}'s`);
}

/**
 * Messages of the decision for epoch E. For E = e+1 the deciders are e's members, so the signer
 * must be one (and a proposal must come from its view's proposer, with a well-formed plan). A node
 * that knows no epoch yet cannot check the deciders: it takes the plan's own list (trust on first
 * use, docs/security.md) but still checks the plan's shape and the proposer.
 */
function decisionWindow(
  m: WireMessage & { kind: "propose" | "accept" | "view" },
  s: ValidationState,
): Verdict | null {
  const e = s.epoch;
  if (e && m.epoch <= e.number)
    return ignore("stale", `decision for epoch ${m.epoch}, current is ${e.number}`);
  if (e && m.epoch > e.number + 1)
    return s.couldJoin(m.agent, m.epoch)
      ? null
      : ignore("future", `${m.agent} is not in view for epoch ${m.epoch} (current ${e.number})`);
  const deciders = e ? e.voters : null;
  if (deciders && !deciders.includes(m.agent))
    return reject("not-member", `${m.agent} is not a voter of epoch ${e?.number}, so not a decider`);
  const plan = carriedPlan(m);
  if (plan) {
    const problem = planProblem(m.epoch, plan, deciders, s) ?? (e ? termsProblem(plan, e) : null);
    if (problem) return reject("bad-plan", problem);
  }
  if (m.kind === "propose") {
    const list = deciders ?? m.plan.deciders;
    const proposer = proposerOf(m.epoch, m.view, list);
    if (m.agent !== proposer)
      return reject("not-proposer", `${m.agent} is not the proposer of view ${m.view} for epoch ${m.epoch}`);
  }
  return null;
}

/** What is wrong with a plan for `epoch`, or null. */
export function planProblem(
  epoch: number,
  plan: EpochPlan,
  deciders: readonly AgentId[] | null,
  s: Pick<ValidationState, "allowed" | "resources" | "maxMessageBytes">,
): string | null {
  if (!isSortedUnique(plan.members)) return "plan.members: must be sorted and unique";
  if (!isSortedUnique(plan.deciders)) return "plan.deciders: must be sorted and unique";
  if (deciders && !sameIds(plan.deciders, deciders))
    return `plan.deciders: must be the voters of epoch ${epoch - 1}`;
  if (!isSortedUnique(plan.voters)) return "plan.voters: must be sorted and unique";
  if (
    epoch === 0 ? !sameIds(plan.voters, plan.deciders) : plan.voters.some((id) => !plan.members.includes(id))
  )
    return epoch === 0 ? "plan.voters: the founder votes first" : "plan.voters: must be members";
  const outsider = plan.members.find((id) => !s.allowed(id));
  if (outsider) return `plan.members: ${outsider} is not on the contract's allowlist`;
  if (epoch === 0) {
    if (plan.base !== null) return "plan.base: the first epoch has none";
    if (plan.deciders.length !== 1) return "plan.deciders: the first epoch is decided by its founder alone";
    if (plan.terms !== null || plan.ledger !== null)
      return "plan: the first epoch runs the contract, with no ledger yet";
  } else if (plan.base === null || plan.base.epoch !== epoch - 1) {
    return `plan.base: must come from epoch ${epoch - 1}`;
  }
  const overflow = planOverflow(plan, s.resources, s.maxMessageBytes);
  return overflow ? `plan.members: ${overflow}` : null;
}

/** A plan's terms: those in effect now, or an amendment of them (docs/protocol.md §12). */
function termsProblem(plan: EpochPlan, e: EpochWindow): string | null {
  if (plan.terms === null) return e.terms.amends === undefined ? null : "plan.terms: the terms are amended";
  const id = contractId(plan.terms);
  if (id === e.termsId) return null;
  const problem = amendmentProblem(e.terms, e.termsId, plan.terms);
  return problem ? `plan.terms: ${problem}` : null;
}

/** Bit-for-bit equality: honest nodes compute identical prices, so anything else is a fault. */
export function samePrices(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
}

function reject(reason: Extract<Verdict, { verdict: "reject" }>["reason"], detail: string): Verdict {
  return { verdict: "reject", reason, detail };
}

function ignore(reason: Extract<Verdict, { verdict: "ignore" }>["reason"], detail: string): Verdict {
  return { verdict: "ignore", reason, detail };
}
