import type { Logger } from "pino";

/**
 * What a node start has acquired so far (lock, store, libp2p host, listeners), released newest
 * first when a later step fails, and by `stop()` once the node has started: one teardown, in one
 * order, for both. Without it a start that failed part-way, say on an HTTP port in use, left the
 * host and gossip running and the process never exited.
 */
export interface UndoStack {
  push(step: () => unknown): void;
  /**
   * Runs every step, newest first; a step that fails is logged and the rest still run. Resolves
   * to the first failure, if any.
   */
  unwind(log: Logger): Promise<unknown>;
}

export function createUndoStack(): UndoStack {
  const steps: (() => unknown)[] = [];
  return {
    push: (step) => void steps.push(step),
    unwind: async (log) => {
      let first: unknown;
      for (let step = steps.pop(); step; step = steps.pop()) {
        try {
          await step();
        } catch (err) {
          first ??= err;
          log.warn({ err: (err as Error).message }, "releasing a node's resource failed");
        }
      }
      return first;
    },
  };
}
