import { type AgentMachine, decodeMessage } from "@walras/protocol";
import type { MachineDriver } from "../driver/machine-driver.ts";
import type { Store } from "../store/store.ts";
import { blamesResponder } from "./inbound-pipeline.ts";

/**
 * What a replay did: messages applied, and the stored rows it skipped that sync must not serve:
 * those that no longer decode, and those any node rejects (a bad signature, another contract, …).
 */
export interface Replayed {
  readonly applied: number;
  /** The digests of the rows in `undecodable` and `broken`. */
  readonly unservable: ReadonlySet<string>;
  readonly undecodable: number;
  readonly broken: number;
}

/**
 * Feeds the machine what this data dir already holds, in the order it was stored, through the
 * same checks as live messages, before the node goes live. A row the machine refuses is skipped
 * as a live message would be; one that does not decode, or that the machine rejects for a reason
 * every node would (blamesResponder: an asker would blame this node for serving it), or that fails
 * a check every node shares though the machine refused it before that check, is counted
 * for the caller to report: the store was damaged, or written by a version that encoded or
 * checked differently, and the node restarts without those messages. Their digests are what sync
 * must not serve: every row written later is a message this version accepted, so the replay,
 * which judges every row anyway, finds them all. Rows refused for this node's state (`not-member`
 * under another epoch, say) are still served: another node may accept them.
 */
export function replayStore(
  store: Store,
  machine: AgentMachine,
  driver: MachineDriver,
  now: () => number,
): Replayed {
  let applied = 0;
  let undecodable = 0;
  const unservable = new Set<string>();
  for (const row of store.allMessages()) {
    const decoded = decodeMessage(row.bytes);
    if (!decoded.ok) {
      undecodable++;
      unservable.add(row.digest);
      continue;
    }
    const judged = machine.check(decoded.message, { replay: true });
    if (judged.verdict !== "accept") {
      // A row refused before its signature was checked (a decision of the epoch this node holds,
      // a stale round) would still be served: the checks every node shares judge it too.
      const broken = judged.verdict === "reject" && blamesResponder(judged.reason);
      if (broken || machine.sharedCheck(decoded.message)) unservable.add(row.digest);
      continue;
    }
    void driver.handle({ type: "message", now: now(), message: decoded.message, replay: true });
    applied++;
  }
  return { applied, unservable, undecodable, broken: unservable.size - undecodable };
}
