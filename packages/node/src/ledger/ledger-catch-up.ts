import type { Logger } from "pino";
import { StoreWriteError } from "../store/store.ts";
import type { createLedgerSync } from "./ledger-sync.ts";

/** The wait before a run that stopped at its page limit goes on, after the first such stop. */
export const LEDGER_CONTINUE_FIRST_MS = 1_000;
/** The longest wait between such runs (the wait doubles each time). */
export const LEDGER_CONTINUE_MAX_MS = 30_000;
/**
 * Runs that go on without a new trigger after the one a trigger started: with 1,000 pages a run
 * (ledger-sync.ts), 11 runs of 64 certificates a page follow up to 704,000 certificates, in about
 * 3 minutes of waits. A peer that keeps saying `more` keeps the node at it no longer than that
 * per trigger; the next certificate or plan the node cannot place starts a new series.
 */
export const MAX_LEDGER_CONTINUED_RUNS = 10;

/**
 * The node's ledger catch-up: a run at start, and when a certificate or plan links to a ledger it
 * lacks (`start`), its outcome logged; it never rejects. A run that stopped at its page limit
 * with more to fetch goes on at `continueAt()`, with no new trigger: a node far behind on a quiet
 * market would otherwise stay behind until the next certificate. The node's one timer (the
 * machine driver) wakes for it and calls `continueIfDue`; `onScheduled` tells it the time moved.
 */
export interface LedgerCatchUp {
  /** A run for a trigger (start, a certificate or plan that does not link); starts a new series. */
  start(): Promise<void>;
  /** When a stopped run is to go on (ms, `now`'s clock); Infinity when none is. */
  continueAt(): number;
  /** Goes on with a stopped run when its time has come. */
  continueIfDue(now: number): void;
}

export interface LedgerCatchUpOptions {
  now(): number;
  /** `continueAt()` moved without an event (a run ended): the timer owner re-reads it. */
  onScheduled?(): void;
  /** Default LEDGER_CONTINUE_FIRST_MS and LEDGER_CONTINUE_MAX_MS. */
  readonly continueMs?: { readonly first: number; readonly max: number };
}

/**
 * A store that cannot take what a peer sent (a full disk) is the operator's to know, as when a
 * certificate assembled here cannot be stored: `storeFailed` says so (walras-node.ts: one
 * rate-limited line naming the file). What was not stored is not kept; the next catch-up fetches
 * it again. A run that failed or was refused does not go on by itself: the next trigger retries.
 */
export function createLedgerCatchUp(
  ledgerSync: ReturnType<typeof createLedgerSync>,
  log: Logger,
  storeFailed: (err: StoreWriteError) => void,
  options: LedgerCatchUpOptions,
): LedgerCatchUp {
  const { first, max } = options.continueMs ?? {
    first: LEDGER_CONTINUE_FIRST_MS,
    max: LEDGER_CONTINUE_MAX_MS,
  };
  let continueAt = Number.POSITIVE_INFINITY;
  /** Runs gone on since the last trigger. */
  let continued = 0;

  const run = async (): Promise<void> => {
    continueAt = Number.POSITIVE_INFINITY;
    try {
      const { added, error, more } = await ledgerSync.sync();
      if (error) log.warn({ error }, "ledger from a peer did not verify; kept none of it");
      else if (added > 0) log.info({ added }, "ledger caught up");
      if (!more) return;
      if (continued >= MAX_LEDGER_CONTINUED_RUNS) {
        log.warn(
          { runs: continued + 1 },
          "ledger catch-up still has more to fetch after its last run; the next certificate or plan it cannot place starts it again",
        );
        return;
      }
      continueAt = options.now() + Math.min(first * 2 ** continued, max);
      options.onScheduled?.();
    } catch (err) {
      if (err instanceof StoreWriteError) storeFailed(err);
      else log.debug({ err: (err as Error).message }, "ledger catch-up failed");
    }
  };

  return {
    start: () => {
      continued = 0;
      return run();
    },
    continueAt: () => continueAt,
    continueIfDue: (now) => {
      if (now < continueAt) return;
      continued++;
      void run();
    },
  };
}
