import { MAX_SYNC_AGENTS, type MessageKind } from "@walras/protocol";
import { z } from "zod";
import { GOSSIP_KINDS } from "./gossip-topics.ts";

/** Request and response bodies of the sync protocol (JSON, one of each per stream). */

/** What a `messages` request may name: a gossip topic (all its kinds) or one message kind. */
export const SYNC_KINDS = [
  ...GOSSIP_KINDS,
  "join",
  "alive",
  "leave",
  "propose",
  "accept",
  "view",
  "rebid",
  "amend",
  "approve",
] as const;
export type SyncKind = (typeof SYNC_KINDS)[number];
/** Compile-time check: a message kind added to the protocol must be askable by name. */
const everyKindAskable: [Exclude<MessageKind, SyncKind>] extends [never] ? true : never = true;
void everyKindAskable;
/** The most messages one `messages` answer holds; more come in further pages. */
export const MAX_SYNC_PAGE = 256;
/**
 * A `messages` or `decision` answer stops growing past this many message bytes (a `messages`
 * answer's `next` then names the rest); its first message is sent whole even if bigger.
 */
export const MAX_PAGE_BYTES = 1024 * 1024;

const contractIdSchema = z.string().regex(/^[0-9a-f]{64}$/, "contractId must be 64 lowercase hex digits");
const counter = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

export const syncRequestSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("contract"), contractId: contractIdSchema }),
  z.strictObject({
    type: z.literal("messages"),
    contractId: contractIdSchema,
    epoch: counter,
    round: counter.optional(),
    kinds: z.array(z.enum(SYNC_KINDS)).max(SYNC_KINDS.length).optional(),
    /** Only these agents' messages: the ones the asker lacks. */
    agents: z.array(z.string().min(1).max(128)).min(1).max(MAX_SYNC_AGENTS).optional(),
    /** Continue after this position: the `next` of the previous page's answer. */
    after: counter.optional(),
    /** At most this many messages in the answer (default and maximum MAX_SYNC_PAGE). */
    limit: z.number().int().min(1).max(MAX_SYNC_PAGE).optional(),
  }),
  z.strictObject({ type: z.literal("status") }),
  /** The messages proving one epoch's decision (a proposal and a majority of accepts); no epoch: the current one. */
  z.strictObject({ type: z.literal("decision"), contractId: contractIdSchema, epoch: counter.optional() }),
  /** Ledger entries after the certificate with this digest (from the start without one), a page at a time. */
  z.strictObject({
    type: z.literal("ledger"),
    contractId: contractIdSchema,
    after: contractIdSchema.optional(),
  }),
]);
export type SyncRequest = z.infer<typeof syncRequestSchema>;
export type ContractRequest = Extract<SyncRequest, { type: "contract" }>;
export type MessagesRequest = Extract<SyncRequest, { type: "messages" }>;
export type StatusRequest = Extract<SyncRequest, { type: "status" }>;
export type DecisionRequest = Extract<SyncRequest, { type: "decision" }>;
export type LedgerRequest = Extract<SyncRequest, { type: "ledger" }>;

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, "not base64");

/** `contract` is null when the responder does not know the contract. */
export const contractResponseSchema = z.strictObject({ contract: z.unknown().nullable() });
/** Signed message bytes, base64; `next` (a position to ask `after`) when more remain. */
export const messagesResponseSchema = z.strictObject({ messages: z.array(base64), next: counter.optional() });
export const statusResponseSchema = z.strictObject({ status: z.record(z.string(), z.unknown()) });
export const errorResponseSchema = z.strictObject({ error: z.string() });
/** Ledger entries (checked by the asker against docs/protocol.md §12) and whether more follow. */
export const ledgerResponseSchema = z.strictObject({ entries: z.array(z.unknown()), more: z.boolean() });

export type ContractResponse = z.infer<typeof contractResponseSchema>;
export type MessagesResponse = z.infer<typeof messagesResponseSchema>;
export type StatusResponse = z.infer<typeof statusResponseSchema>;
export type ErrorResponse = z.infer<typeof errorResponseSchema>;
export type LedgerResponse = z.infer<typeof ledgerResponseSchema>;
export type SyncResponse =
  | ContractResponse
  | MessagesResponse
  | StatusResponse
  | LedgerResponse
  | ErrorResponse;

/** The response a request of type R expects on success. */
export type SyncResponseFor<R extends SyncRequest> = R extends ContractRequest
  ? ContractResponse
  : R extends MessagesRequest | DecisionRequest
    ? MessagesResponse
    : R extends LedgerRequest
      ? LedgerResponse
      : StatusResponse;

export const responseSchemaFor = {
  contract: contractResponseSchema,
  messages: messagesResponseSchema,
  decision: messagesResponseSchema,
  ledger: ledgerResponseSchema,
  status: statusResponseSchema,
} as const;
