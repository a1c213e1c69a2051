import type { Logger } from "pino";
import { StoreWriteError } from "../store/store.ts";
import type { createLedgerSync } from "./ledger-sync.ts";

/**
 * One ledger catch-up run, as the node starts it (at start, and when a certificate or plan links
 * to a ledger it lacks), its outcome logged; it never rejects. A store that cannot take what a
 * peer sent (a full disk) is the operator's to know, as when a certificate assembled here cannot
 * be stored: `storeFailed` says so (walras-node.ts: one rate-limited line naming the file). What
 * was not stored is not kept; the next catch-up fetches it again.
 */
export function createLedgerCatchUp(
  ledgerSync: ReturnType<typeof createLedgerSync>,
  log: Logger,
  storeFailed: (err: StoreWriteError) => void,
): () => Promise<void> {
  return async () => {
    try {
      const { added, error } = await ledgerSync.sync();
      if (error) log.warn({ error }, "ledger from a peer did not verify; kept none of it");
      else if (added > 0) log.info({ added }, "ledger caught up");
    } catch (err) {
      if (err instanceof StoreWriteError) storeFailed(err);
      else log.debug({ err: (err as Error).message }, "ledger catch-up failed");
    }
  };
}
