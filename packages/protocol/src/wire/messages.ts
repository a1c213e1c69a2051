import { z } from "zod";
import { STALL_REASONS } from "../economics/stall-rule.ts";
import { type Contract, contractSchema } from "./contract.ts";
import type { AgentId, ContractId, Digest } from "./ids.ts";
import { WIRE_NUMBER_BOUND } from "./protocol-numbers.ts";

/**
 * The wire messages. Every one names its contract and epoch, is signed by one agent, and is
 * encoded as canonical JSON (see message-codec.ts and docs/protocol.md §Messages).
 */

/** The wire version: in every message, and in the domain prefix of every signature. */
export const PROTOCOL_VERSION = 2;

const finite = z.number().refine(Number.isFinite, "must be finite");
/**
 * Bound on every number a message carries (other than counters): keeps honest values and stops
 * absurd ones before they reach the arithmetic. The engine keeps what it publishes within it
 * (prices at most this, activity and slopes clamped) and the CLI accepts no profile or contract
 * number beyond it (protocol-numbers.ts).
 */
const MAX_MAGNITUDE = WIRE_NUMBER_BOUND;
const bounded = finite.refine((n) => Math.abs(n) <= MAX_MAGNITUDE, `must be within ±${MAX_MAGNITUDE}`);
const quantity = bounded.refine((n) => n >= 0, "must be >= 0");
const prices = z
  .array(quantity.refine((n) => n >= 0, "must be >= 0"))
  .min(1)
  .max(64);
const hex64 = z.string().regex(/^[0-9a-f]{64}$/, "must be 64 hex digits");
const agentId = z.string().min(1).max(128);
const epoch = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const round = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
// Canonical base64 only: the last character before "==" carries 2 bits of the signature and 4
// unused bits. Were those free, anyone could re-encode a member's signature into a second valid
// message for the same slot and frame the member for equivocation.
const signature = z
  .string()
  .regex(/^[A-Za-z0-9+/]{85}[AQgw]==$/, "must be a canonical base64 Ed25519 signature");

const header = {
  v: z.literal(PROTOCOL_VERSION),
  contract: hex64,
  agent: agentId,
  sig: signature,
};

/** Round k: agent's activity level and demand slope at the price vector p^k it answers. */
export const demandMessageSchema = z.strictObject({
  ...header,
  kind: z.literal("demand"),
  epoch,
  round,
  prices,
  x: quantity,
  slope: bounded.refine((n) => n <= 0, "must be <= 0"),
  footprint: z.array(bounded).min(1).max(64),
  /**
   * Only from a member at its activity cap: x stays where it is for unit prices up to `price` and
   * falls at `slope` just above it (docs/protocol.md §7, the newton rule's hinge from above).
   */
  exit: z.strictObject({ price: bounded, slope: bounded.refine((n) => n < 0, "must be < 0") }).optional(),
});

export const allocationEntrySchema = z.strictObject({
  agent: agentId,
  x: quantity,
  footprint: z.array(bounded).min(1).max(64),
});

/** The stopping rule held at `round`: these prices and allocations are the epoch's equilibrium. */
export const commitMessageSchema = z.strictObject({
  ...header,
  kind: z.literal("commit"),
  epoch,
  round,
  members: z.array(agentId).min(1).max(10_000),
  prices,
  allocations: z.array(allocationEntrySchema).min(1).max(10_000),
  /**
   * Any finite non-negative number, unlike the others: nodes before the 1e12 cap on what an
   * engine publishes (settlement.ts) published larger ones, and their commits sit in stored
   * ledgers; no rule computes with it (the verifier recomputes the residual from the allocations).
   */
  residual: z.number().nonnegative().refine(Number.isFinite, "must be finite"),
  /** No price cleared exactly (a fixed fee makes demand jump): the best feasible round instead. */
  approximate: z.literal(true).optional(),
  /** The ledger's previous certificate (its digest), or null for the first: a hash chain per contract. */
  previous: hex64.nullable(),
  /** The id of the amended terms this epoch ran under; absent: the contract itself. */
  terms: hex64.optional(),
  /**
   * Why an approximate commit stopped looking (economics/stall-rule.ts). Optional and additive:
   * added with the stall rule; commits without it are approximate for an unstated reason.
   */
  reason: z.enum(STALL_REASONS).optional(),
});

/**
 * A commit as gossiped (docs/protocol.md §8): the signer and its signature, and the digest of the
 * body the signature is over instead of the body. Every member that settled the epoch computed
 * that body itself, so a commit's ~8 KB at 50 members (four fifths of a market's bytes) crosses
 * each gossip link as 349 bytes; a node that does not hold the body gets full commits by sync.
 * Not a message of its own: a receiver expands it into the commit it stands for.
 */
export const commitReferenceSchema = z.strictObject({
  ...header,
  kind: z.literal("commit-ref"),
  epoch,
  body: hex64,
});
export type CommitReference = Omit<z.output<typeof commitReferenceSchema>, "contract" | "agent"> & {
  readonly contract: ContractId;
  readonly agent: AgentId;
  readonly body: Digest;
};

/** "I want to be a member." Re-announced (seq grows) until an epoch includes the agent. */
export const joinMessageSchema = z.strictObject({
  ...header,
  kind: z.literal("join"),
  /** The newest epoch the joiner knows, or 0. Informational: joins are not bound to an epoch. */
  epoch,
  seq: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
});

/**
 * "I am still here, a member of epoch `epoch`." Members of a converged epoch send one every
 * announceMs, so a member that crashes after convergence is noticed and dropped like a silent one
 * in a running round. `seq` is the sender's clock in ms: it only has to grow across restarts.
 */
export const aliveMessageSchema = z.strictObject({
  ...header,
  kind: z.literal("alive"),
  epoch,
  seq: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
});

/** "My bid changed (`walras agent update`): open a new slot." Only for contracts without a period. */
export const rebidMessageSchema = z.strictObject({
  ...header,
  kind: z.literal("rebid"),
  epoch,
  seq: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
});

/**
 * "I propose these terms (capacities, fees) in place of the current ones." Its id is the id of
 * `terms`, whose `amends` names the terms it replaces; the proposal counts as its signer's approval.
 */
export const amendMessageSchema = z.strictObject({
  ...header,
  kind: z.literal("amend"),
  epoch,
  terms: contractSchema,
});

/** "I approve the amendment with this id." A quorum of a certificate's members passes it. */
export const approveMessageSchema = z.strictObject({
  ...header,
  kind: z.literal("approve"),
  epoch,
  amendment: hex64,
});

/**
 * The most a leaver re-sends its `leave` in one epoch (`seq` 1…MAX_LEAVE_SEQ): a bound on the slots
 * one member's leaves hold. An honest leaver sends fewer (machine/leave-stay.ts).
 */
export const MAX_LEAVE_SEQ = 8;

/**
 * "I leave epoch `epoch`." A leaver that stays re-sends it (docs/protocol.md §9.4); gossip drops
 * the same bytes again as a duplicate (its ids are content hashes), so each re-send carries `seq`,
 * absent on the first.
 */
export const leaveMessageSchema = z.strictObject({
  ...header,
  kind: z.literal("leave"),
  epoch,
  seq: z.number().int().min(1).max(MAX_LEAVE_SEQ).optional(),
});

export const epochBaseSchema = z.strictObject({ epoch, round, prices });

const members = z.array(agentId).min(1).max(10_000);

/**
 * Proofs one plan carries at most: each is two demands (a few KB at 64 resources), and a plan must
 * leave room for the epoch's other messages. More convicted members leave in later epochs.
 */
export const MAX_PLAN_PROOFS = 4;

/** Why an epoch (a market slot) begins: informational, except that a period-only plan waits for the acceptor's clock. */
export const EPOCH_CAUSES = [
  "found",
  "join",
  "leave",
  "silence",
  "rebid",
  "period",
  "amend",
  "promote",
  "renew",
  "equivocation",
] as const;
export type EpochCause = (typeof EPOCH_CAUSES)[number];

/**
 * What an epoch decision decides: who the members of epoch `epoch` are, who decides it (the
 * previous epoch's members, or the founder alone for epoch 0), the prices it starts from, the
 * terms in effect, and the ledger's tip its certificate will link to.
 */
export const epochPlanSchema = z.strictObject({
  members,
  deciders: members,
  /**
   * Who decides the next epoch: the previous voters and the members that have bid (Raft's
   * learners become voters once caught up), so an admitted member that never bids cannot hold
   * a majority hostage.
   */
  voters: members,
  /** null for the first epoch (it starts at the contract's initial prices). */
  base: epochBaseSchema.nullable(),
  /** The amended terms in effect (a whole contract document with `amends`), or null: the contract itself. */
  terms: contractSchema.nullable(),
  /** Digest of the latest certificate of the ledger when this epoch was planned, or null (none yet). */
  ledger: hex64.nullable(),
  cause: z.array(z.enum(EPOCH_CAUSES)).min(1).max(EPOCH_CAUSES.length),
  /**
   * With cause `equivocation`, and only then: for each member the plan drops as an equivocator, its
   * two signed demands of one round at the same prices (docs/protocol.md §5.1), so that every node
   * that validates the plan holds the proof and convicts the member itself. Optional and additive:
   * a plan without it encodes (and digests) as before.
   */
  proofs: z
    .array(z.tuple([demandMessageSchema, demandMessageSchema]))
    .min(1)
    .max(MAX_PLAN_PROOFS)
    .optional(),
});

const view = z.number().int().nonnegative().max(1_000_000);

/**
 * "In view `view` of the decision for epoch `epoch`, I propose `plan`." Only the view's proposer
 * (docs/protocol.md §9) may send it; it also counts as the proposer's own accept.
 */
export const proposeMessageSchema = z.strictObject({
  ...header,
  kind: z.literal("propose"),
  epoch,
  view,
  plan: epochPlanSchema,
});

/** "I accept the plan with this digest, proposed in view `view` of the decision for `epoch`." */
export const acceptMessageSchema = z.strictObject({
  ...header,
  kind: z.literal("accept"),
  epoch,
  view,
  plan: hex64,
});

/**
 * "I move to view `view` of the decision for `epoch` and accept nothing from an earlier view;
 * the last plan I accepted was `accepted`." Paxos's promise: the view's proposer must re-propose
 * the plan accepted in the highest view among a majority of these.
 */
export const viewMessageSchema = z.strictObject({
  ...header,
  kind: z.literal("view"),
  epoch,
  view,
  accepted: z.strictObject({ view, plan: epochPlanSchema }).nullable(),
});

export const wireMessageSchema = z.discriminatedUnion("kind", [
  demandMessageSchema,
  commitMessageSchema,
  joinMessageSchema,
  aliveMessageSchema,
  leaveMessageSchema,
  proposeMessageSchema,
  acceptMessageSchema,
  viewMessageSchema,
  rebidMessageSchema,
  amendMessageSchema,
  approveMessageSchema,
]);

type Branded<T> = Omit<T, "contract" | "agent"> & { readonly contract: ContractId; readonly agent: AgentId };
export type DemandMessage = Branded<z.output<typeof demandMessageSchema>>;
export type CommitMessage = Branded<z.output<typeof commitMessageSchema>>;
export type JoinMessage = Branded<z.output<typeof joinMessageSchema>>;
export type LeaveMessage = Branded<z.output<typeof leaveMessageSchema>>;
export type AliveMessage = Branded<z.output<typeof aliveMessageSchema>>;
export type ProposeMessage = Omit<Branded<z.output<typeof proposeMessageSchema>>, "plan"> & {
  readonly plan: EpochPlan;
};
export type AcceptMessage = Omit<Branded<z.output<typeof acceptMessageSchema>>, "plan"> & {
  readonly plan: Digest;
};
export type ViewMessage = Omit<Branded<z.output<typeof viewMessageSchema>>, "accepted"> & {
  readonly accepted: { readonly view: number; readonly plan: EpochPlan } | null;
};
export type RebidMessage = Branded<z.output<typeof rebidMessageSchema>>;
export type AmendMessage = Omit<Branded<z.output<typeof amendMessageSchema>>, "terms"> & {
  readonly terms: Contract;
};
export type ApproveMessage = Omit<Branded<z.output<typeof approveMessageSchema>>, "amendment"> & {
  readonly amendment: Digest;
};
export type EpochBase = z.output<typeof epochBaseSchema>;
/** Two demands one member signed for one round at the same prices: a plan's `proofs` entry. */
export type EquivocationProof = readonly [DemandMessage, DemandMessage];
export interface EpochPlan {
  readonly members: readonly AgentId[];
  readonly deciders: readonly AgentId[];
  readonly voters: readonly AgentId[];
  readonly base: EpochBase | null;
  readonly terms: Contract | null;
  readonly ledger: Digest | null;
  readonly cause: readonly EpochCause[];
  readonly proofs?: readonly EquivocationProof[];
}
export type AllocationEntry = z.output<typeof allocationEntrySchema>;

export type WireMessage =
  | DemandMessage
  | CommitMessage
  | JoinMessage
  | AliveMessage
  | LeaveMessage
  | ProposeMessage
  | AcceptMessage
  | ViewMessage
  | RebidMessage
  | AmendMessage
  | ApproveMessage;
export type MessageKind = WireMessage["kind"];
/** A message before its signature: what a node builds and then signs. */
export type Unsigned<M extends WireMessage> = Omit<M, "sig">;

/** The gossip topic each kind travels on. */
export type Topic = "demand" | "commit" | "membership";
export function topicOf(kind: MessageKind): Topic {
  switch (kind) {
    case "demand":
    case "commit":
      return kind;
    case "join":
    case "alive":
    case "leave":
    case "propose":
    case "accept":
    case "view":
    case "rebid":
    case "amend":
    case "approve":
      return "membership";
  }
}

/** The kinds a topic may carry; anything else on it is rejected. */
export function kindsOf(topic: Topic): readonly MessageKind[] {
  return topic === "membership"
    ? ["join", "alive", "leave", "propose", "accept", "view", "rebid", "amend", "approve"]
    : [topic];
}

/** Messages of one slot may exist once per signer; two different ones are equivocation. */
export function slotOf(m: WireMessage): string {
  switch (m.kind) {
    case "demand":
      return `demand/${m.epoch}/${m.round}/${m.agent}`;
    case "commit":
      return `commit/${m.epoch}/${m.agent}`;
    case "join":
    case "alive":
    case "rebid":
      return `${m.kind}/${m.epoch}/${m.seq}/${m.agent}`;
    case "amend":
      return `amend/${m.epoch}/${m.agent}`;
    case "approve":
      return `approve/${m.amendment}/${m.agent}`;
    case "leave":
      return `leave/${m.epoch}/${m.seq ?? 0}/${m.agent}`;
    case "propose":
    case "accept":
    case "view":
      return `${m.kind}/${m.epoch}/${m.view}/${m.agent}`;
  }
}
