import { MAX_MESSAGE_BYTES } from "@walras/protocol";
import { MAX_PAGE_BYTES, MAX_SYNC_PAGE, type SyncRequest, type SyncResponse } from "./sync-messages.ts";
import { DEFAULT_MAX_SYNC_RESPONSE_BYTES } from "./sync-protocol.ts";

/**
 * The most message bytes an honest answer carries: a page stops before the message that would
 * take it past MAX_PAGE_BYTES, except its first, which may be up to MAX_MESSAGE_BYTES alone.
 */
export const MAX_ANSWER_MESSAGE_BYTES = MAX_PAGE_BYTES + MAX_MESSAGE_BYTES;

/**
 * Fewer bytes than any decision message (propose, accept, view) has: each carries a contract id
 * (64 hex digits), a signature (88 base64 characters) and an agent id (a 52-character peer id)
 * besides its fields; the smallest, a view accepting nothing, is 294 bytes.
 */
export const MIN_DECISION_MESSAGE_BYTES = 256;
/**
 * The most messages an honest `decision` answer holds: its bytes are capped, and no decision
 * message is smaller than MIN_DECISION_MESSAGE_BYTES. The server sends every proposal and accept
 * of 64 epochs it holds, so the count has no bound of its own; without this one, an answer of
 * empty or tiny strings held up to a million "messages" within the byte cap, each decoded.
 */
export const MAX_DECISION_ANSWER_MESSAGES = Math.floor(MAX_ANSWER_MESSAGE_BYTES / MIN_DECISION_MESSAGE_BYTES);

/**
 * Why a `messages` or `decision` answer is more than an honest server sends for `request` (more
 * messages than the `limit` asked or a decision answer holds, or more message bytes than a page
 * holds), or null when it is
 * within both. Without this check a server could answer 15,000 forged messages per page, each
 * decoded and judged by the asker, and still count as a good peer.
 */
export function answerOverPage(request: SyncRequest, response: SyncResponse): string | null {
  if (request.type !== "messages" && request.type !== "decision") return null;
  if (!("messages" in response)) return null;
  const { messages } = response;
  if (request.type === "messages") {
    const limit = request.limit ?? MAX_SYNC_PAGE;
    if (messages.length > limit) return `${messages.length} messages for a limit of ${limit}`;
  } else if (messages.length > MAX_DECISION_ANSWER_MESSAGES) {
    return `${messages.length} messages, over the ${MAX_DECISION_ANSWER_MESSAGES} a decision answer holds`;
  }
  let bytes = 0;
  for (const b64 of messages) bytes += Buffer.byteLength(b64, "base64");
  if (bytes > MAX_ANSWER_MESSAGE_BYTES)
    return `${bytes} message bytes, over the ${MAX_ANSWER_MESSAGE_BYTES} a page holds`;
  return null;
}

/** JSON around an answer's messages: `{"messages":[…],"next":<up to 16 digits>}`. */
const ENVELOPE_BYTES = 64;
/** JSON per message: its quotes and comma, and base64's padding beyond 4/3 of its bytes. */
const PER_MESSAGE_JSON_BYTES = 6;

/**
 * The most bytes an honest answer to `request` has on the wire: for `messages` and `decision`,
 * the most messages and message bytes answerOverPage lets through, in base64 and JSON; for the
 * rest, the transport's own cap. The asker stops reading as soon as an answer's length prefix
 * passes it, so a server cannot make it buffer and parse 4 MiB to find out.
 */
export function answerByteLimit(request: SyncRequest): number {
  if (request.type !== "messages" && request.type !== "decision") return DEFAULT_MAX_SYNC_RESPONSE_BYTES;
  const count = request.type === "messages" ? (request.limit ?? MAX_SYNC_PAGE) : MAX_DECISION_ANSWER_MESSAGES;
  const messageBytes = Math.min(MAX_ANSWER_MESSAGE_BYTES, count * MAX_MESSAGE_BYTES);
  return Math.ceil((messageBytes * 4) / 3) + count * PER_MESSAGE_JSON_BYTES + ENVELOPE_BYTES;
}
