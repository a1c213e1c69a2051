import { type AgentId, type ContractId, compareIds } from "../wire/ids.ts";
import { messageDigest } from "../wire/message-codec.ts";
import type { EpochPlan, EquivocationProof, WireMessage } from "../wire/messages.ts";
import { slotOf } from "../wire/messages.ts";
import type { Equivocation } from "./machine-io.ts";
import { samePrices } from "./validate.ts";

/**
 * A plan that drops members for equivocation carries the proof against each (docs/protocol.md
 * §5.1): relayed alone a proof travels about one hop (gossipsub's seen cache drops a version a
 * peer has seen), but the plan reaches every node that decides or adopts the epoch, and each of
 * them convicts from it. What is wrong with a plan's proofs, or null.
 *
 * - cause `equivocation` if and only if the plan carries proofs: the cause names a proven fault,
 *   never the proposer's word (it may still drop a member for any other cause, §9.4);
 * - one proof per agent, sorted by agent, each two demands by that agent of one round, of an epoch
 *   before the plan's, at the same prices, different, both verifying under its key (conviction.ts:
 *   two demands at the same prices are what honesty never signs);
 * - the agent is a member of the epoch the plan follows (`members`, null when the node knows no
 *   epoch yet, which takes the plan on trust, or holds it for a later epoch, when it convicts no
 *   one until judged again: agent-machine.ts), and not one of the plan's.
 */
export function planProofsProblem(
  epoch: number,
  plan: EpochPlan,
  s: {
    readonly contractId: ContractId;
    readonly members: ReadonlySet<AgentId> | null;
    verify(m: WireMessage): boolean;
  },
): string | null {
  const proofs = plan.proofs ?? [];
  const cause = plan.cause.includes("equivocation");
  if (cause && proofs.length === 0)
    return "plan.proofs: cause equivocation needs the proof against each member it drops";
  if (!cause && proofs.length > 0) return "plan.proofs: only a plan with cause equivocation carries proofs";
  let previous: AgentId | null = null;
  for (const [i, proof] of proofs.entries()) {
    const at = `plan.proofs[${i}]`;
    const [first] = proof;
    const agent = first.agent;
    if (previous !== null && compareIds(agent, previous) <= 0)
      return `${at}: must be sorted by agent, one per agent`;
    previous = agent;
    if (first.epoch >= epoch) return `${at}: not two demands of one round of an epoch before ${epoch}`;
    if (s.members && !s.members.has(agent)) return `${at}: ${agent} is not a member of epoch ${epoch - 1}`;
    if (plan.members.includes(agent)) return `${at}: ${agent} is convicted but stays a member`;
    const problem = proofProblem(proof, s);
    if (problem) return `${at}: ${problem}`;
  }
  return null;
}

/**
 * What is wrong with an equivocation proof on its own, or null: two demands by one agent, of this
 * contract, of one round of one epoch, at the same prices, different, both verifying under its key
 * (conviction.ts: what honesty never signs). Judged for a plan's proofs, and for the proofs a
 * restarted node held before (its store's conviction record), which must still hold.
 */
export function proofProblem(
  [first, second]: EquivocationProof,
  s: { readonly contractId: ContractId; verify(m: WireMessage): boolean },
): string | null {
  const agent = first.agent;
  if (first.kind !== "demand" || second.kind !== "demand") return "not two demands";
  if (second.agent !== agent) return "the two demands are by different agents";
  if (first.contract !== s.contractId || second.contract !== s.contractId)
    return "a demand of another contract";
  if (first.epoch !== second.epoch || first.round !== second.round) return "not two demands of one round";
  if (!samePrices(first.prices, second.prices)) return "the two demands answer different prices";
  if (messageDigest(first) === messageDigest(second)) return "the same demand twice";
  if (!s.verify(first) || !s.verify(second)) return `a demand does not verify under ${agent}`;
  return null;
}

/** A plan's proofs as the equivocations a node records (equivocation-evidence.ts). */
export function planEquivocations(plan: EpochPlan): Equivocation[] {
  return (plan.proofs ?? []).map(asEquivocation);
}

/** A proof (a plan's entry, or one a restarted node held) as the equivocation a node records. */
export function asEquivocation([first, second]: EquivocationProof): Equivocation {
  return { agent: first.agent, slot: slotOf(first), first, second };
}

/** The plan entry for a proof this node holds, if it is one a plan can carry. */
export function asPlanProof(proof: Equivocation): EquivocationProof | null {
  const { first, second } = proof;
  return first.kind === "demand" && second.kind === "demand" ? [first, second] : null;
}
