import { type Signer, verifyAgentSignature } from "../../wire/agent-key.ts";
import { canonicalBytes } from "../../wire/canonical-json.ts";
import type { AgentId, ContractId, Digest } from "../../wire/ids.ts";
import {
  buildMerkleSumTree,
  demandContribution,
  type MerkleSumTree,
  type SumLeaf,
} from "../../wire/merkle-sum-tree.ts";
import { messageDigest } from "../../wire/message-codec.ts";
import { type DemandMessage, PROTOCOL_VERSION } from "../../wire/messages.ts";
import { base64ToBytes, verifyMessage } from "../../wire/signing.ts";

/**
 * A committee's aggregate for one round (docs/scaling.md §2.3), and the fraud proof against a false
 * one (§2.6). Not yet a wire message: the aggregation model sizes it, and these functions fix what
 * it says and how a committee member catches an aggregator that lies.
 *
 * The aggregator signs: the round, its committee, a bitfield over the committee's members (in id
 * order) naming the demands it summed, and the root of a Merkle-sum tree over those demands
 * (wire/merkle-sum-tree.ts) with the root's sums split into S (R numbers), J (R × R) and L.
 */
export interface CommitteeAggregate {
  readonly v: number;
  readonly kind: "aggregate";
  readonly contract: ContractId;
  readonly epoch: number;
  readonly round: number;
  readonly committee: number;
  /** The aggregator; a member of the committee. */
  readonly agent: AgentId;
  /** Bit i (byte i >> 3, bit i & 7) set: member i of the committee, in id order, is counted. */
  readonly bitfield: string;
  readonly S: readonly number[];
  readonly J: readonly (readonly number[])[];
  readonly L: number;
  readonly count: number;
  readonly root: Digest;
  readonly sig: string;
}

export interface AggregateInput {
  readonly contract: ContractId;
  readonly epoch: number;
  readonly round: number;
  readonly committee: number;
  /** The committee's members in id order. */
  readonly members: readonly AgentId[];
  /** The round's demands the aggregator holds from members of the committee, any order. */
  readonly demands: readonly DemandMessage[];
  readonly signer: Signer;
  readonly resources: number;
}

/** Builds and signs the aggregate of the committee's demands that `demands` holds. */
export function buildAggregate(input: AggregateInput): CommitteeAggregate {
  const counted = countedDemands(input.members, input.demands);
  const tree = committeeTree(counted);
  const R = input.resources;
  const sums = tree?.root.sums ?? new Array<number>(R + R * R + 1).fill(0);
  const unsigned = {
    v: PROTOCOL_VERSION,
    kind: "aggregate" as const,
    contract: input.contract,
    epoch: input.epoch,
    round: input.round,
    committee: input.committee,
    agent: input.signer.id,
    bitfield: bitfieldOf(input.members, counted),
    S: sums.slice(0, R),
    J: Array.from({ length: R }, (_, r) => sums.slice(R + r * R, R + (r + 1) * R)),
    L: sums[R + R * R] as number,
    count: counted.length,
    root: tree?.root.hash ?? EMPTY_ROOT,
  };
  return signAggregate(unsigned, input.signer);
}

/** Signs an aggregate's body: a domain prefix, then its canonical JSON. */
export function signAggregate(unsigned: Omit<CommitteeAggregate, "sig">, signer: Signer): CommitteeAggregate {
  return { ...unsigned, sig: Buffer.from(signer.sign(aggregateSigningBytes(unsigned))).toString("base64") };
}

/** What a committee member concludes about an aggregate from the demands it holds. */
export type AggregateCheck =
  | { readonly verdict: "agrees" }
  /** It names a member whose demand this member does not hold: it cannot judge (yet). */
  | { readonly verdict: "cannot-judge"; readonly missing: readonly AgentId[] }
  /** The signed aggregate disagrees with signed demands: the two together are the proof. */
  | { readonly verdict: "fraud"; readonly proof: FraudProof; readonly reason: string };

export interface FraudProof {
  readonly aggregate: CommitteeAggregate;
  /** Every demand the bitfield names, each signed by its member. */
  readonly demands: readonly DemandMessage[];
}

/**
 * A committee member checks an aggregate against the demands it holds: it rebuilds the tree over
 * the demands the bitfield names and compares the root, its count and every sum, bit for bit.
 */
export function checkAggregate(
  aggregate: CommitteeAggregate,
  members: readonly AgentId[],
  held: readonly DemandMessage[],
): AggregateCheck {
  const named = namedMembers(aggregate.bitfield, members);
  const byAgent = new Map(held.map((d) => [d.agent as string, d]));
  const missing = named.filter((m) => !byAgent.has(m));
  if (missing.length > 0) return { verdict: "cannot-judge", missing };
  const demands = named.map((m) => byAgent.get(m) as DemandMessage);
  const reason = disagreement(aggregate, demands);
  return reason === null
    ? { verdict: "agrees" }
    : { verdict: "fraud", proof: { aggregate, demands }, reason };
}

/**
 * Anyone checks a fraud proof with the committee's members alone: the aggregate is signed by its
 * aggregator, every demand by its member and of the aggregate's round, the demands are exactly the
 * ones its bitfield names, and they disagree with it. A proof that fails any of these proves
 * nothing (and costs its sender its score, as any invalid message does).
 */
export function verifyFraudProof(
  proof: FraudProof,
  members: readonly AgentId[],
): { ok: true; reason: string } | { ok: false; error: string } {
  const { aggregate, demands } = proof;
  const { sig, ...unsigned } = aggregate;
  if (!members.includes(aggregate.agent))
    return { ok: false, error: `aggregator ${aggregate.agent} is not a member` };
  if (!verifyAgentSignature(aggregate.agent, aggregateSigningBytes(unsigned), base64ToBytes(sig)))
    return { ok: false, error: "aggregate: bad signature" };
  const named = namedMembers(aggregate.bitfield, members);
  if (demands.length !== named.length || demands.some((d, i) => d.agent !== named[i]))
    return { ok: false, error: "demands: not exactly the members the bitfield names, in id order" };
  for (const d of demands) {
    if (d.contract !== aggregate.contract || d.epoch !== aggregate.epoch || d.round !== aggregate.round)
      return { ok: false, error: `demand of ${d.agent}: not of the aggregate's contract, epoch and round` };
    if (!verifyMessage(d)) return { ok: false, error: `demand of ${d.agent}: bad signature` };
  }
  const reason = disagreement(aggregate, demands);
  return reason === null
    ? { ok: false, error: "the aggregate agrees with the demands" }
    : { ok: true, reason };
}

/** Digest of an empty tree: an aggregate of no demands. */
const EMPTY_ROOT = "0".repeat(64) as Digest;
const DOMAIN = new TextEncoder().encode(`walras/v${PROTOCOL_VERSION}/aggregate\n`);

function aggregateSigningBytes(unsigned: Omit<CommitteeAggregate, "sig">): Uint8Array {
  const body = canonicalBytes(unsigned);
  const bytes = new Uint8Array(DOMAIN.length + body.length);
  bytes.set(DOMAIN);
  bytes.set(body, DOMAIN.length);
  return bytes;
}

/** Why `aggregate` is not the aggregate of `demands` (the ones it names, in id order), or null. */
function disagreement(aggregate: CommitteeAggregate, demands: readonly DemandMessage[]): string | null {
  const tree = committeeTree(demands);
  const R = aggregate.S.length;
  const sums = tree?.root.sums ?? new Array<number>(R + R * R + 1).fill(0);
  if (aggregate.count !== demands.length) return `count ${aggregate.count}, ${demands.length} demands named`;
  if ((tree?.root.hash ?? EMPTY_ROOT) !== aggregate.root) return "root differs from the named demands' tree";
  const claimed = [...aggregate.S, ...aggregate.J.flat(), aggregate.L];
  if (claimed.length !== sums.length) return `${claimed.length} sums, the tree has ${sums.length}`;
  const at = claimed.findIndex((v, i) => !Object.is(v, sums[i]));
  return at < 0 ? null : `sum ${at} is ${claimed[at]}, the demands sum to ${sums[at]}`;
}

function countedDemands(members: readonly AgentId[], demands: readonly DemandMessage[]): DemandMessage[] {
  const byAgent = new Map(demands.map((d) => [d.agent as string, d]));
  return members.flatMap((m) => {
    const d = byAgent.get(m);
    return d ? [d] : [];
  });
}

/** The Merkle-sum tree over demands in id order: an aggregate's, and where members' proofs come from. */
export function committeeTree(demands: readonly DemandMessage[]): MerkleSumTree | null {
  if (demands.length === 0) return null;
  return buildMerkleSumTree(
    demands.map(
      (d): SumLeaf => ({ digest: messageDigest(d), sums: demandContribution(d.x, d.slope, d.footprint) }),
    ),
  );
}

function bitfieldOf(members: readonly AgentId[], counted: readonly DemandMessage[]): string {
  const bits = Buffer.alloc(Math.ceil(members.length / 8));
  const index = new Map(members.map((m, i) => [m as string, i]));
  for (const d of counted) {
    const i = index.get(d.agent) as number;
    bits[i >> 3] = (bits[i >> 3] as number) | (1 << (i & 7));
  }
  return bits.toString("base64");
}

function namedMembers(bitfield: string, members: readonly AgentId[]): AgentId[] {
  const bits = Buffer.from(bitfield, "base64");
  return members.filter((_, i) => (((bits[i >> 3] ?? 0) >> (i & 7)) & 1) === 1);
}
