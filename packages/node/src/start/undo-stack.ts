import type { Logger } from "pino";

/**
 * What a node start has acquired so far (lock, store, libp2p host, listeners), released newest
 * first when a later step fails. Without it a start that failed part-way, say on an HTTP port in
 * use, left the host and gossip running and the process never exited.
 */
export interface UndoStack {
  push(step: () => unknown): void;
  /** Runs every step, newest first; a step that fails is logged and the rest still run. */
  unwind(log: Logger): Promise<void>;
}

export function createUndoStack(): UndoStack {
  const steps: (() => unknown)[] = [];
  return {
    push: (step) => void steps.push(step),
    unwind: async (log) => {
      for (let step = steps.pop(); step; step = steps.pop()) {
        try {
          await step();
        } catch (err) {
          log.warn({ err: (err as Error).message }, "releasing a failed start's resource failed");
        }
      }
    },
  };
}
