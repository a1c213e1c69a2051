import { MAX_SYNC_WANT_MESSAGES, type SyncWant, syncAgents } from "../machine/machine-io.ts";
import type { WireMessage } from "../wire/messages.ts";

/**
 * What a node's `messages` want brings back from one peer's store, as the node's sync client gets
 * it: the stored messages of the want's epoch, kinds, round (if named) and agents (if named, at
 * most MAX_SYNC_AGENTS), in the order stored, cut at `cap` (the pages the client follows).
 */
export function syncAnswer(
  store: readonly WireMessage[],
  want: Extract<SyncWant, { type: "messages" }>,
  cap: number = MAX_SYNC_WANT_MESSAGES,
): WireMessage[] {
  const named = syncAgents(want);
  const only = named !== undefined ? new Set<string>(named) : null;
  const answer: WireMessage[] = [];
  for (const m of store) {
    if (answer.length >= cap) break;
    if (m.kind === "join" || m.epoch !== want.epoch || !want.kinds.includes(m.kind)) continue;
    if (want.round !== undefined && "round" in m && m.round !== want.round) continue;
    if (only !== null && !only.has(m.agent)) continue;
    answer.push(m);
  }
  return answer;
}
