import { MAX_MESSAGE_BYTES } from "@walras/protocol";
import { MAX_PAGE_BYTES, MAX_SYNC_PAGE, type SyncRequest, type SyncResponse } from "./sync-messages.ts";

/**
 * The most message bytes an honest answer carries: a page stops before the message that would
 * take it past MAX_PAGE_BYTES, except its first, which may be up to MAX_MESSAGE_BYTES alone.
 */
export const MAX_ANSWER_MESSAGE_BYTES = MAX_PAGE_BYTES + MAX_MESSAGE_BYTES;

/**
 * Why a `messages` or `decision` answer is more than an honest server sends for `request` (more
 * messages than the `limit` asked, or more message bytes than a page holds), or null when it is
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
  }
  let bytes = 0;
  for (const b64 of messages) bytes += Buffer.byteLength(b64, "base64");
  if (bytes > MAX_ANSWER_MESSAGE_BYTES)
    return `${bytes} message bytes, over the ${MAX_ANSWER_MESSAGE_BYTES} a page holds`;
  return null;
}
