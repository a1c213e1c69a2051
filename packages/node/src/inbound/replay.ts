import { type AgentMachine, decodeMessage } from "@walras/protocol";
import type { MachineDriver } from "../driver/machine-driver.ts";
import type { Store } from "../store/store.ts";

/**
 * Feeds the machine what this data dir already holds, in the order it was stored, through the
 * same checks as live messages, before the node goes live. Returns how many were applied.
 */
export function replayStore(
  store: Store,
  machine: AgentMachine,
  driver: MachineDriver,
  now: () => number,
): number {
  let replayed = 0;
  for (const row of store.allMessages()) {
    const decoded = decodeMessage(row.bytes);
    if (!decoded.ok || machine.check(decoded.message).verdict !== "accept") continue;
    void driver.handle({ type: "message", now: now(), message: decoded.message, replay: true });
    replayed++;
  }
  return replayed;
}
