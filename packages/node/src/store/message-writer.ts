import { type MessageQuery, matchesQuery, type Store, type StoredMessage } from "./store.ts";

/**
 * Writes messages to the store in batches: one SQLite transaction (one WAL write) per batch
 * instead of one per message, which was the largest single cost of a busy node.
 *
 * Messages from the network wait at most `flushDelayMs` (or until `maxBatch` of them are
 * pending). Losing them to a crash costs nothing: peers still hold them and sync fetches them
 * again. A message this node signs is different — a restart must replay it rather than sign
 * another for its slot — so `own` writes it at once, in one transaction with everything received
 * before it (the messages it was computed from), and returns only when that is committed. The
 * caller publishes after `own` returns: nothing this node said is ever missing from its store.
 */
export interface MessageWriter {
  /** A message from the network: stored with the next batch. */
  received(message: StoredMessage): void;
  /** A message this node signed: stored now, after everything pending; `durable` also fsyncs. */
  own(message: StoredMessage, durable: boolean): void;
  /** Writes whatever is pending (on stop). */
  flush(): void;
  /**
   * The pending messages `query` asks for, in the order they came: what a reader of the store
   * (the sync server) adds to what it finds there. Reading them writes nothing, so it works on a
   * full disk, where they stay pending until there is room.
   */
  unwritten(query: MessageQuery): StoredMessage[];
  /** Messages waiting for the next batch. */
  readonly pending: number;
}

export interface MessageWriterOptions {
  /** Longest a received message waits to be written. Default 50 ms. */
  readonly flushDelayMs?: number;
  /** A batch this large is written at once. Default 512. */
  readonly maxBatch?: number;
  /** Told when a batch could not be written (the messages stay pending for the next try). */
  readonly onError?: (err: unknown) => void;
}

export function createMessageWriter(store: Store, options: MessageWriterOptions = {}): MessageWriter {
  const flushDelayMs = options.flushDelayMs ?? 50;
  const maxBatch = options.maxBatch ?? 512;
  let batch: StoredMessage[] = [];
  let timer: NodeJS.Timeout | null = null;
  /** The last write failed (a full disk): a full batch then waits for the timer, not each message. */
  let failing = false;

  const write = (extra: StoredMessage | null, durable: boolean): void => {
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
    const rows = extra ? [...batch, extra] : batch;
    if (rows.length === 0) return;
    try {
      store.putMessages(rows, { durable });
    } catch (err) {
      failing = true;
      throw err;
    }
    failing = false;
    batch = [];
  };

  const flushSoon = (): void => {
    try {
      write(null, false);
    } catch (err) {
      options.onError?.(err);
    }
  };

  return {
    received: (message) => {
      batch.push(message);
      // On a full disk the batch outgrows maxBatch: writing it again for every message that comes
      // (gossip or a sync answer of hundreds) cost a failing transaction of the whole batch each.
      if (batch.length >= maxBatch && !failing) flushSoon();
      else timer ??= setTimeout(flushSoon, flushDelayMs);
    },
    own: (message, durable) => write(message, durable),
    flush: () => write(null, false),
    unwritten: (query) => batch.filter((m) => matchesQuery(query, m)),
    get pending() {
      return batch.length;
    },
  };
}
