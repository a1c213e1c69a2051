import type { AgentId, ContractId } from "../wire/ids.ts";
import type { WireMessage } from "../wire/messages.ts";
import { carriedPlan } from "./epoch-plan.ts";
import type { RejectReason, Verdict } from "./machine-io.ts";

/** What the checks every node shares read: the contract's, not this node's state. */
export interface SharedCheckState {
  readonly contractId: ContractId;
  readonly resources: number;
  allowed(agent: AgentId): boolean;
  /** The agent's Ed25519 signature over the message's signing bytes. */
  verify(m: WireMessage): boolean;
}

/**
 * The reasons the shared checks reject for: a message rejected for one is broken whoever judges it
 * (the allowlist is the contract's, and amendments cannot change it: terms.ts).
 */
const SHARED_REJECT_REASONS: ReadonlySet<RejectReason> = new Set<RejectReason>([
  "wrong-contract",
  "resource-count",
  "not-allowed",
  "bad-signature",
]);

/** Whether a rejection for `reason` is one every node makes, whatever its state. */
export function isSharedRejection(reason: RejectReason): boolean {
  return SHARED_REJECT_REASONS.has(reason);
}

/**
 * The §5 checks whose verdict does not depend on the judging node's state (its epoch, round or
 * held messages): contract, resource count, allowlist, signature. A message that fails one is
 * rejected by every node, whenever it arrives; one that passes them all may still be refused for
 * the node's state. `validate` runs the same functions, interleaved with the state's checks.
 */
export function sharedVerdict(m: WireMessage, s: SharedCheckState): Verdict | null {
  return addressVerdict(m, s) ?? allowlistVerdict(m, s) ?? signatureVerdict(m, s);
}

/** The contract the message names, and the length of its per-resource vectors. */
export function addressVerdict(m: WireMessage, s: SharedCheckState): Verdict | null {
  if (m.contract !== s.contractId)
    return reject(
      "wrong-contract",
      `contract ${m.contract.slice(0, 12)}… is not ${s.contractId.slice(0, 12)}…`,
    );
  const count = resourceCountProblem(m, s.resources);
  return count ? reject("resource-count", count) : null;
}

export function allowlistVerdict(m: WireMessage, s: SharedCheckState): Verdict | null {
  return s.allowed(m.agent) ? null : reject("not-allowed", `${m.agent} is not on the contract's allowlist`);
}

export function signatureVerdict(m: WireMessage, s: SharedCheckState): Verdict | null {
  return s.verify(m) ? null : reject("bad-signature", `signature does not verify under ${m.agent}`);
}

function resourceCountProblem(m: WireMessage, R: number): string | null {
  if ((m.kind === "demand" || m.kind === "commit") && m.prices.length !== R)
    return `${m.prices.length} prices for ${R} resources`;
  if (m.kind === "demand" && m.footprint.length !== R)
    return `footprint has ${m.footprint.length} entries for ${R} resources`;
  if (m.kind === "commit" && m.allocations.some((a) => a.footprint.length !== R))
    return `commit footprint length is not ${R}`;
  const plan = carriedPlan(m);
  if (plan?.base && plan.base.prices.length !== R)
    return `base has ${plan.base.prices.length} prices for ${R} resources`;
  return null;
}

function reject(reason: RejectReason, detail: string): Verdict {
  return { verdict: "reject", reason, detail };
}
