import type { Logger } from "pino";

/**
 * What a node holds while it runs, in the order a start acquires it. The teardown releases it in
 * the reverse order, which matters: the host stops before gossip leaves its topics (by closing
 * connections, host.ts), the writer flushes what arrived until the hang-up before the store
 * closes, and the lock goes last, once nothing writes in the data dir.
 */
export type NodeResource =
  | "lock"
  | "store"
  | "writer"
  | "gossip"
  | "host"
  | "driver"
  | "sync"
  | "peer-listeners"
  | "http";

/**
 * What a node start has acquired so far (lock, store, libp2p host, listeners), released newest
 * first when a later step fails, and by `stop()` once the node has started: one teardown, in one
 * order, for both. Without it a start that failed part-way, say on an HTTP port in use, left the
 * host and gossip running and the process never exited.
 */
export interface UndoStack {
  push(resource: NodeResource, step: () => unknown): void;
  /**
   * Runs every step, newest first; a step that fails is logged and the rest still run. Each
   * release is logged at trace, naming the resource (not at debug: devnet shows a node log's last
   * debug lines to say why a start failed). Resolves to the first failure, if any.
   */
  unwind(log: Logger): Promise<unknown>;
}

export function createUndoStack(): UndoStack {
  const steps: { resource: NodeResource; step: () => unknown }[] = [];
  return {
    push: (resource, step) => void steps.push({ resource, step }),
    unwind: async (log) => {
      let first: unknown;
      for (let next = steps.pop(); next; next = steps.pop()) {
        const { resource, step } = next;
        try {
          await step();
          log.trace({ resource }, "released a node's resource");
        } catch (err) {
          first ??= err;
          log.warn({ resource, err: (err as Error).message }, "releasing a node's resource failed");
        }
      }
      return first;
    },
  };
}
