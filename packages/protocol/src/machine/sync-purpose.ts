import { type SyncWant, syncAgents } from "./machine-io.ts";

/**
 * What a catch-up is for, as the node's metrics label its requests: the kinds asked for, and
 * whether the request names the agents whose messages are missing (`named`) or asks for all of an
 * epoch's or round's (`all`: no agent known, or more than MAX_SYNC_AGENTS missing). At 100 node
 * processes with a 5 s round timeout every node sent ~24 requests per round, 80% failing, and the
 * outcome counter alone could not say which of the machine's wants they were (docs/scaling.md §5).
 * Few values: the machine's wants are a handful of kind sets (sorted, so one set is one value).
 * `ledger` is the node's own (a settled history page), not a want of the machine. `named` is the
 * want's: to a peer that speaks only /walras/sync/2.0.0 the node drops the names (sync-protocol.ts).
 */
export type SyncPurpose = "decision" | "ledger" | `${string}:${"named" | "all"}`;

export function syncPurpose(want: SyncWant): SyncPurpose {
  if (want.type === "decision") return "decision";
  return `${[...want.kinds].sort().join("+")}:${syncAgents(want) === undefined ? "all" : "named"}`;
}
