import {
  type ActionExecutor,
  type ActionExecutorInit,
  createActionExecutor,
} from "../src/actions/action-executor.ts";
import type { LedgerBook } from "../src/ledger/ledger-book.ts";
import { createLogger } from "../src/logging/logger.ts";
import { createNodeMetrics } from "../src/metrics/node-metrics.ts";
import { idleWriter } from "./idle-writer.ts";

/**
 * An action executor on stubs: a writer that stores nothing, no ledger (an action that touched it
 * would throw), a silent log, and nothing done on a publish, catch-up or leave; `parts` replaces
 * what a test watches or needs real.
 */
export function stubbedExecutor(parts: Partial<ActionExecutorInit> = {}): ActionExecutor {
  return createActionExecutor({
    writer: idleWriter(),
    ledger: {} as LedgerBook,
    metrics: createNodeMetrics(),
    log: createLogger({ level: "silent" }),
    listeners: new Set(),
    publish: async () => {},
    catchUp: () => {},
    catchUpLedger: () => {},
    keepConviction: () => {},
    left: () => {},
    now: () => 0,
    ...parts,
  });
}
