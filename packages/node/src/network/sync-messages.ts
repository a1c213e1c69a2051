import { z } from "zod";
import { GOSSIP_KINDS } from "./gossip-topics.ts";

/** Request and response bodies of the sync protocol (JSON, one of each per stream). */

/** What a `messages` request may name: a gossip topic (all its kinds) or one message kind. */
export const SYNC_KINDS = [...GOSSIP_KINDS, "join", "alive", "leave", "epoch"] as const;
export type SyncKind = (typeof SYNC_KINDS)[number];
/** The most messages one `messages` answer holds; more come in further pages. */
export const MAX_SYNC_PAGE = 256;

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
    /** Continue after this position: the `next` of the previous page's answer. */
    after: counter.optional(),
    /** At most this many messages in the answer (default and maximum MAX_SYNC_PAGE). */
    limit: z.number().int().min(1).max(MAX_SYNC_PAGE).optional(),
  }),
  z.strictObject({ type: z.literal("status") }),
]);
export type SyncRequest = z.infer<typeof syncRequestSchema>;
export type ContractRequest = Extract<SyncRequest, { type: "contract" }>;
export type MessagesRequest = Extract<SyncRequest, { type: "messages" }>;
export type StatusRequest = Extract<SyncRequest, { type: "status" }>;

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, "not base64");

/** `contract` is null when the responder does not know the contract. */
export const contractResponseSchema = z.strictObject({ contract: z.unknown().nullable() });
/** Signed message bytes, base64; `next` (a position to ask `after`) when more remain. */
export const messagesResponseSchema = z.strictObject({ messages: z.array(base64), next: counter.optional() });
export const statusResponseSchema = z.strictObject({ status: z.record(z.string(), z.unknown()) });
export const errorResponseSchema = z.strictObject({ error: z.string() });

export type ContractResponse = z.infer<typeof contractResponseSchema>;
export type MessagesResponse = z.infer<typeof messagesResponseSchema>;
export type StatusResponse = z.infer<typeof statusResponseSchema>;
export type ErrorResponse = z.infer<typeof errorResponseSchema>;
export type SyncResponse = ContractResponse | MessagesResponse | StatusResponse | ErrorResponse;

/** The response a request of type R expects on success. */
export type SyncResponseFor<R extends SyncRequest> = R extends ContractRequest
  ? ContractResponse
  : R extends MessagesRequest
    ? MessagesResponse
    : StatusResponse;

export const responseSchemaFor = {
  contract: contractResponseSchema,
  messages: messagesResponseSchema,
  status: statusResponseSchema,
} as const;
