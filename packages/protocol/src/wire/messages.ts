import { z } from "zod";
import { STALL_REASONS } from "../economics/stall-rule.ts";
import type { AgentId, ContractId, Digest } from "./ids.ts";
import { WIRE_NUMBER_BOUND } from "./protocol-numbers.ts";

/**
 * The wire messages. Every one names its contract and epoch, is signed by one agent, and is
 * encoded as canonical JSON (see message-codec.ts and docs/protocol.md §Messages).
 */

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
  v: z.literal(1),
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
});

/** The price p^{k+1} a node computed from round k's demand set, and which set it used. */
export const priceMessageSchema = z.strictObject({
  ...header,
  kind: z.literal("price"),
  epoch,
  round,
  prices,
  demandSet: hex64,
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
  residual: z.number().nonnegative().refine(Number.isFinite, "must be finite"),
  /** No price cleared exactly (a fixed fee makes demand jump): the best feasible round instead. */
  approximate: z.literal(true).optional(),
  /**
   * Why an approximate commit stopped looking (economics/stall-rule.ts). Optional and additive:
   * added with the stall rule; commits without it are approximate for an unstated reason.
   */
  reason: z.enum(STALL_REASONS).optional(),
});

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

/** "I leave epoch `epoch`." */
export const leaveMessageSchema = z.strictObject({
  ...header,
  kind: z.literal("leave"),
  epoch,
});

export const epochBaseSchema = z.strictObject({ epoch, round, prices });

/**
 * "Epoch `epoch` should have exactly `members`, starting from `base`'s prices." An epoch begins
 * once every one of its members has this identical proposal as its latest (highest seq).
 */
export const epochMessageSchema = z.strictObject({
  ...header,
  kind: z.literal("epoch"),
  epoch,
  seq: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  members: z.array(agentId).min(1).max(10_000),
  /** null for the first epoch (it starts at the contract's initial prices). */
  base: epochBaseSchema.nullable(),
});

export const wireMessageSchema = z.discriminatedUnion("kind", [
  demandMessageSchema,
  priceMessageSchema,
  commitMessageSchema,
  joinMessageSchema,
  aliveMessageSchema,
  leaveMessageSchema,
  epochMessageSchema,
]);

type Branded<T> = Omit<T, "contract" | "agent"> & { readonly contract: ContractId; readonly agent: AgentId };
export type DemandMessage = Branded<z.output<typeof demandMessageSchema>>;
export type PriceMessage = Branded<z.output<typeof priceMessageSchema>> & { readonly demandSet: Digest };
export type CommitMessage = Branded<z.output<typeof commitMessageSchema>>;
export type JoinMessage = Branded<z.output<typeof joinMessageSchema>>;
export type LeaveMessage = Branded<z.output<typeof leaveMessageSchema>>;
export type AliveMessage = Branded<z.output<typeof aliveMessageSchema>>;
export type EpochMessage = Branded<z.output<typeof epochMessageSchema>>;
export type EpochBase = z.output<typeof epochBaseSchema>;
export type AllocationEntry = z.output<typeof allocationEntrySchema>;

export type WireMessage =
  | DemandMessage
  | PriceMessage
  | CommitMessage
  | JoinMessage
  | AliveMessage
  | LeaveMessage
  | EpochMessage;
export type MessageKind = WireMessage["kind"];
/** A message before its signature: what a node builds and then signs. */
export type Unsigned<M extends WireMessage> = Omit<M, "sig">;

/** The gossip topic each kind travels on. */
export type Topic = "demand" | "price" | "commit" | "membership";
export function topicOf(kind: MessageKind): Topic {
  switch (kind) {
    case "demand":
    case "price":
    case "commit":
      return kind;
    case "join":
    case "alive":
    case "leave":
    case "epoch":
      return "membership";
  }
}

/** The kinds a topic may carry; anything else on it is rejected. */
export function kindsOf(topic: Topic): readonly MessageKind[] {
  return topic === "membership" ? ["join", "alive", "leave", "epoch"] : [topic];
}

/** Messages of one slot may exist once per signer; two different ones are equivocation. */
export function slotOf(m: WireMessage): string {
  switch (m.kind) {
    case "demand":
    case "price":
    case "commit":
      return `${m.kind}/${m.epoch}/${m.round}/${m.agent}`;
    case "epoch":
    case "join":
    case "alive":
      return `${m.kind}/${m.epoch}/${m.seq}/${m.agent}`;
    case "leave":
      return `leave/${m.epoch}/${m.agent}`;
  }
}
