import { agentIdFromPublicKey } from "../wire/agent-key.ts";
import type { Contract } from "../wire/contract.ts";
import type { AgentId } from "../wire/ids.ts";
import { MAX_MESSAGE_BYTES } from "../wire/message-codec.ts";
import type { EpochPlan } from "../wire/messages.ts";
import { planOverflow } from "./plan-fit.ts";

/**
 * A real agent id: every agent signs, so every id is an Ed25519 peer id, and all of those are
 * this long (52 characters). The bound below is for ids of exactly this length.
 */
const PEER_ID = agentIdFromPublicKey(new Uint8Array(32));
export const PEER_ID_LENGTH = PEER_ID.length;

/** The wire's limit on a plan's member list (messages.ts): no more members than this, whatever fits. */
const MAX_PLAN_MEMBERS = 10_000;

/**
 * The founding plan of `n` peer-id members as a founder weighs it (membership.ts #found with
 * plan-fit's fitJoiners): joiners are fitted as if they already decided and voted.
 */
function founding(n: number): EpochPlan {
  const ids = Array<AgentId>(n).fill(PEER_ID);
  return {
    members: ids,
    deciders: ids,
    voters: ids,
    base: null,
    terms: null,
    ledger: null,
    cause: ["found"],
  };
}

/** The most members a first epoch can have at `resources` resources before its messages outgrow the cap. */
export function maxFoundingMembers(resources: number, maxBytes: number = MAX_MESSAGE_BYTES): number {
  // Fitting is monotone in the members: the largest count that fits, by bisection.
  let lo = 0;
  let hi = MAX_PLAN_MEMBERS;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (planOverflow(founding(mid), resources, maxBytes) === null) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Why no founder could ever start a market of `contract`, or null. The founder waits to know
 * `minMembers` agents and then admits only as many as the wire carries: past that bound it waits
 * forever. Not a rule of contract validity (the scale simulation lifts the cap, and `minMembers`
 * is the founder's hint, not something other nodes check): advice for whoever writes or starts one.
 */
export function minMembersProblem(contract: Contract, maxBytes: number = MAX_MESSAGE_BYTES): string | null {
  const resources = contract.resources.length;
  const n = contract.minMembers;
  if (n <= MAX_PLAN_MEMBERS && planOverflow(founding(n), resources, maxBytes) === null) return null;
  const most = maxFoundingMembers(resources, maxBytes);
  return `minMembers: ${n} agents can never be founded as one market: at ${resources} resource${
    resources === 1 ? "" : "s"
  } a first epoch's messages stay under the wire's ${maxBytes}-byte cap with at most ${most} members (counting ${PEER_ID_LENGTH}-character ids, the length of an Ed25519 peer id)`;
}
