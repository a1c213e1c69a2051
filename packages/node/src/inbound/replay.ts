import { type AgentMachine, decodeMessage } from "@walras/protocol";
import type { MachineDriver } from "../driver/machine-driver.ts";
import type { Store } from "../store/store.ts";

/** What a replay did: messages applied, and the digests of stored rows that no longer decode (skipped). */
export interface Replayed {
  readonly applied: number;
  readonly undecodable: ReadonlySet<string>;
}

/**
 * Feeds the machine what this data dir already holds, in the order it was stored, through the
 * same checks as live messages, before the node goes live. A row the machine refuses is skipped
 * as a live message would be; one that does not decode is counted, for the caller to report: the
 * store was damaged, or written by a version that encoded differently, and the node restarts
 * without those messages. Their digests are what sync must not serve: every row written later is a
 * message this version accepted, so the replay, which decodes every row anyway, finds them all.
 */
export function replayStore(
  store: Store,
  machine: AgentMachine,
  driver: MachineDriver,
  now: () => number,
): Replayed {
  let applied = 0;
  const undecodable = new Set<string>();
  for (const row of store.allMessages()) {
    const decoded = decodeMessage(row.bytes);
    if (!decoded.ok) {
      undecodable.add(row.digest);
      continue;
    }
    if (machine.check(decoded.message, { replay: true }).verdict !== "accept") continue;
    void driver.handle({ type: "message", now: now(), message: decoded.message, replay: true });
    applied++;
  }
  return { applied, undecodable };
}
