import { STALL_REASONS } from "../economics/stall-rule.ts";
import { canonicalJson } from "../wire/canonical-json.ts";
import type { Contract } from "../wire/contract.ts";
import type { AgentId } from "../wire/ids.ts";
import { MAX_MESSAGE_BYTES } from "../wire/message-codec.ts";
import { type EpochPlan, PROTOCOL_VERSION } from "../wire/messages.ts";

/**
 * An epoch's plan must leave room for every message the epoch will need: the `view` that carries
 * the plan, and each member's `commit`, which names every member and an allocation for each.
 * Nothing else bounds an epoch's size, and past the wire's cap (MAX_MESSAGE_BYTES) those messages
 * are rejected by every node: at one resource a `propose` overflows near 1,600 members and a
 * commit near 1,650 (at 64 resources near 900), so an open contract flooded with fresh keys would
 * decide no epoch again (docs/protocol.md §9.4).
 *
 * The bounds are upper bounds, from the longest a number, a count or the signer's id can encode
 * to, so a plan that fits cannot produce a message that does not. They are sums over the ids
 * rather than encodings, because the proposer weighs its plan on every event that could change
 * it: the encoding of the parts that do not grow with the members is measured once.
 */

/** The longest canonical JSON of a finite double: `-2.2250738585072014e-308`. */
const WORST_NUMBER = -2.2250738585072014e-308;
const WORST_HEX = "f".repeat(64);
const WORST_SIG = `${"A".repeat(85)}A==`;
const WORST_VIEW = 1_000_000;
const LONGEST_REASON = [...STALL_REASONS].sort((a, b) => b.length - a.length)[0] ?? "";
/** The signer's id in the skeletons below: the real signer's encoding adds its length less this. */
const SKELETON_AGENT = "";
/** Bytes on the wire: the cap counts UTF-8 bytes, and a name or id may be any string. */
const bytesOf = (json: string): number => Buffer.byteLength(json, "utf8");
const SKELETON_AGENT_BYTES = bytesOf(canonicalJson(SKELETON_AGENT));

const header = (kind: string) => ({
  v: PROTOCOL_VERSION,
  kind,
  contract: WORST_HEX,
  agent: SKELETON_AGENT,
  sig: WORST_SIG,
});

/**
 * An id's encoded bytes, remembered: the proposer weighs its plan on every event, and encoding
 * each id each time cost ~50 µs an event at 50 members. Cleared past 10,000 ids (a join flood).
 */
const idBytesSeen = new Map<AgentId, number>();
function idBytes(id: AgentId): number {
  let bytes = idBytesSeen.get(id);
  if (bytes === undefined) {
    bytes = bytesOf(canonicalJson(id));
    if (idBytesSeen.size >= 10_000) idBytesSeen.clear();
    idBytesSeen.set(id, bytes);
  }
  return bytes;
}

/** What a list of ids adds to an encoding over the empty list: each id and a comma. */
const listBytes = (ids: readonly AgentId[]): number => ids.reduce((sum, id) => sum + idBytes(id) + 1, 0);

const longestId = (lists: readonly (readonly AgentId[])[]): number =>
  Math.max(SKELETON_AGENT_BYTES, ...lists.flatMap((ids) => ids.map(idBytes)));

const termsBytes = new WeakMap<Contract, number>();

/** The plan's encoding with its three lists empty and its terms left out. */
function planSkeletonBytes(plan: EpochPlan): number {
  let terms = 0;
  if (plan.terms !== null) {
    terms = termsBytes.get(plan.terms) ?? bytesOf(canonicalJson(plan.terms));
    termsBytes.set(plan.terms, terms);
    terms -= "null".length;
  }
  return bytesOf(canonicalJson({ ...plan, members: [], deciders: [], voters: [], terms: null })) + terms;
}

/** What a `view` adds around the plan it carries (a `propose` adds less). */
const VIEW_OVERHEAD = (() => {
  const empty = { members: [], deciders: [], voters: [], base: null, terms: null, ledger: null, cause: [] };
  return (
    canonicalJson({
      ...header("view"),
      epoch: Number.MAX_SAFE_INTEGER,
      view: WORST_VIEW,
      accepted: { view: WORST_VIEW, plan: empty },
    }).length - canonicalJson(empty).length
  );
})();

/** The most bytes a `view` (or `propose`) carrying `plan` can take. */
export function decisionBytesBound(plan: EpochPlan): number {
  const lists = [plan.members, plan.deciders, plan.voters];
  return (
    VIEW_OVERHEAD +
    longestId(lists) -
    SKELETON_AGENT_BYTES +
    planSkeletonBytes(plan) +
    lists.reduce((sum, ids) => sum + listBytes(ids), 0)
  );
}

/** A commit with no members, and one allocation's encoding less its id, by resource count. */
const commitParts = new Map<number, { skeleton: number; allocation: number }>();

function commitPartsFor(resources: number): { skeleton: number; allocation: number } {
  let parts = commitParts.get(resources);
  if (!parts) {
    const numbers = Array<number>(resources).fill(WORST_NUMBER);
    parts = {
      skeleton: canonicalJson({
        ...header("commit"),
        epoch: Number.MAX_SAFE_INTEGER,
        round: Number.MAX_SAFE_INTEGER,
        members: [],
        prices: numbers,
        allocations: [],
        residual: WORST_NUMBER,
        approximate: true,
        previous: WORST_HEX,
        terms: WORST_HEX,
        reason: LONGEST_REASON,
      }).length,
      allocation: canonicalJson({ agent: "", footprint: numbers, x: WORST_NUMBER }).length - 2,
    };
    commitParts.set(resources, parts);
  }
  return parts;
}

/**
 * The most bytes a commit of an epoch with these members can take, at `resources` resources.
 * One member's part: its id in `members` and an allocation `{"agent":…,"footprint":[…],"x":…}`.
 */
export function commitBytesBound(members: readonly AgentId[], resources: number): number {
  const { skeleton, allocation } = commitPartsFor(resources);
  let bytes = skeleton + longestId([members]) - SKELETON_AGENT_BYTES;
  for (const id of members) bytes += 2 * (idBytes(id) + 1) + allocation;
  return bytes;
}

/** Why `plan` could not be carried by the wire, or null when every message of its epoch fits. */
export function planOverflow(
  plan: EpochPlan,
  resources: number,
  maxBytes: number = MAX_MESSAGE_BYTES,
): string | null {
  if (maxBytes === Number.POSITIVE_INFINITY) return null;
  const decision = decisionBytesBound(plan);
  if (decision > maxBytes)
    return `a view carrying it could take ${decision} bytes > ${maxBytes}: too many members (${plan.members.length})`;
  const commit = commitBytesBound(plan.members, resources);
  if (commit > maxBytes)
    return `a commit of its ${plan.members.length} members could take ${commit} bytes > ${maxBytes}`;
  return null;
}

/**
 * The plan with as many of `joiners` (in the order given: first heard first) as fit, or null
 * when not even the plan without them fits. Joiners are fitted as if every member already decided
 * and voted: the members admitted now become voters once they bid and deciders an epoch later,
 * and a plan that fits only until then would leave those epochs undecidable. The plan without
 * joiners is judged as it is, as validators judge it: the promotion rule gates admission, and must
 * not stop an epoch that fits from dropping a leaver or a silent member.
 */
export function fitJoiners(
  plan: (joiners: readonly AgentId[]) => EpochPlan,
  joiners: readonly AgentId[],
  resources: number,
  maxBytes: number = MAX_MESSAGE_BYTES,
): { plan: EpochPlan; admitted: number } | null {
  const base = plan([]);
  if (planOverflow(base, resources, maxBytes) !== null) return null;
  if (joiners.length === 0) return { plan: base, admitted: 0 };
  const fits = (p: EpochPlan) =>
    planOverflow({ ...p, deciders: p.members, voters: p.members }, resources, maxBytes) === null;
  const full = plan(joiners);
  if (fits(full)) return { plan: full, admitted: joiners.length };
  if (!fits(base)) return { plan: base, admitted: 0 };
  // Fitting is monotone in the joiners admitted: the largest prefix that fits, by bisection.
  let lo = 0;
  let hi = joiners.length - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(plan(joiners.slice(0, mid)))) lo = mid;
    else hi = mid - 1;
  }
  return { plan: plan(joiners.slice(0, lo)), admitted: lo };
}
