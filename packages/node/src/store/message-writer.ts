import type { Store, StoredMessage } from "./store.ts";

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
 *
 * A batch the store refuses (a full disk) stays in memory and is tried again by a timer, the batch
 * delay and then waits doubling up to MAX_RETRY_DELAY_MS, until a write succeeds; an own message
 * is not tried before that back-off is over. The batch is not bounded meanwhile: an own message is
 * committed with the received ones it was computed from, so none may be dropped.
 */
export interface MessageWriter {
  /** A message from the network: stored with the next batch. */
  received(message: StoredMessage): void;
  /**
   * A message this node signed: stored now, after everything pending; `durable` also fsyncs.
   * While the store is failing it is tried only once the back-off has passed: before that it
   * throws the last write's error at once, with no transaction (each event retries the node's
   * held own messages, and each try wrote the whole pending batch again).
   */
  own(message: StoredMessage, durable: boolean): void;
  /** Writes whatever is pending, back-off or not (on stop, before a sync answer). */
  flush(): void;
  /**
   * No timer of it runs from here on, and none is armed again: a batch that then fails waits for
   * a `flush` (on stop, before the store closes: the last try is the caller's).
   */
  stop(): void;
  /**
   * The pending messages `wanted` keeps, in the order they came: what a reader of the store (the
   * sync server) adds to what it finds there while the store is failing. Reading them writes
   * nothing, so it works on a full disk, where they stay pending until there is room.
   */
  unwritten(wanted: (message: StoredMessage) => boolean): StoredMessage[];
  /**
   * While writes fail, the earliest `own` writes again (ms, `now`'s clock), throwing before then;
   * 0 while they succeed.
   */
  readonly ownTriedFrom: number;
  /** The last write failed (a full disk); the next success clears it. */
  readonly failing: boolean;
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
  /** The clock the back-off is kept by (ms). Default Date.now. */
  readonly now?: () => number;
}

/**
 * The longest wait between tries of a batch the store refuses. The wait starts at the batch delay
 * and doubles with each refusal in a row: a full disk costs a failing transaction of the whole
 * (growing) batch every few seconds, and a disk that has room again is written within this long.
 */
export const MAX_RETRY_DELAY_MS = 2_000;

export function createMessageWriter(store: Store, options: MessageWriterOptions = {}): MessageWriter {
  const flushDelayMs = options.flushDelayMs ?? 50;
  const maxBatch = options.maxBatch ?? 512;
  const now = options.now ?? (() => Date.now());
  let batch: StoredMessage[] = [];
  let timer: NodeJS.Timeout | null = null;
  /** The last write's error while writes fail (a full disk); null once one succeeds. */
  let lastError: unknown = null;
  /** While failing: no own message is tried before this (ms, `now`'s clock). */
  let retryAt = 0;
  /** The wait after the next refusal. */
  let retryDelay = flushDelayMs;
  let stopped = false;

  const cancelTimer = (): void => {
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
  };

  const write = (extra: StoredMessage | null, durable: boolean): void => {
    cancelTimer();
    const rows = extra ? [...batch, extra] : batch;
    if (rows.length === 0) return;
    try {
      store.putMessages(rows, { durable });
    } catch (err) {
      lastError = err;
      retryAt = now() + retryDelay;
      // The batch is tried again by itself: nothing else may come to trigger it (a quiet market).
      if (batch.length > 0 && !stopped) timer = setTimeout(flushSoon, retryDelay);
      retryDelay = Math.min(2 * retryDelay, Math.max(flushDelayMs, MAX_RETRY_DELAY_MS));
      throw err;
    }
    lastError = null;
    retryDelay = flushDelayMs;
    batch = [];
  };

  function flushSoon(): void {
    try {
      write(null, false);
    } catch (err) {
      options.onError?.(err);
    }
  }

  return {
    received: (message) => {
      batch.push(message);
      const failing = lastError !== null;
      // On a full disk the batch outgrows maxBatch: writing it again for every message that comes
      // (gossip or a sync answer of hundreds) cost a failing transaction of the whole batch each.
      if (batch.length >= maxBatch && !failing) flushSoon();
      else if (!stopped)
        timer ??= setTimeout(flushSoon, failing ? Math.max(flushDelayMs, retryAt - now()) : flushDelayMs);
    },
    own: (message, durable) => {
      if (lastError !== null && now() < retryAt) throw lastError;
      write(message, durable);
    },
    flush: () => write(null, false),
    stop: () => {
      stopped = true;
      cancelTimer();
    },
    unwritten: (wanted) => batch.filter(wanted),
    get ownTriedFrom() {
      return lastError === null ? 0 : retryAt;
    },
    get failing() {
      return lastError !== null;
    },
    get pending() {
      return batch.length;
    },
  };
}
