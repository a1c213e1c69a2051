import type { WireMessage } from "@walras/protocol";
import type { Logger } from "pino";
import { storeFailureLog } from "../logging/store-failure-log.ts";
import { StoreWriteError } from "../store/store.ts";

/**
 * Own messages the store could not take (a full disk, a store gone read-only), held in the order
 * the machine signed them and tried again, stored then published, at the executor's next event or
 * at `retryAt`, whichever comes first: a quiet node may see no event for a long time (the driver
 * arms its timer for `retryAt`, machine-driver.ts). A try within the writer's back-off after a
 * failed write costs nothing: the writer refuses it without a transaction (message-writer.ts).
 * The timer's try refused so is no try: the timer is put off to the end of that back-off, and the
 * wait does not double.
 *
 * The machine has already recorded each one as sent: dropped, it would never be stored, published
 * or signed again, and the node would sit out the round. Published unstored, a restart could sign
 * a different message for its slot (write-ahead: nothing this node said may be missing from its
 * store). Once one is held, later ones queue behind it, so the store and the network see them in
 * the machine's order (a restart replays them in storage order). Held messages are not kept across
 * a restart: nobody saw them, and the restarted node derives its messages afresh.
 */
export interface UnstoredOwnMessages {
  /**
   * When the held messages are to be tried again if no event comes first (ms, `now`'s clock):
   * RETRY_FIRST_MS after the first refusal, then, at each refusal of a try at or past it (the
   * timer's), twice the last wait after that try, up to RETRY_MAX_MS. An event's try refused
   * before it leaves it where it is: the wait doubles per retry interval elapsed, not per try,
   * else a burst of events on a full disk pushed it out to RETRY_MAX_MS within a second, and a
   * node going quiet then waited that long though it had failed for a second or two. Infinity
   * while none are held.
   */
  readonly retryAt: number;
  /**
   * Stores and publishes `message` with `send`, or holds it when earlier ones are held or the store
   * refuses it. The publish's promise, or null when held. Errors other than a store write's throw.
   */
  send(message: WireMessage, send: (message: WireMessage) => Promise<void>): Promise<void> | null;
  /** Sends the held messages in order, stopping at the first the store still refuses. */
  retry(send: (message: WireMessage) => Promise<void>): Promise<void>[];
  /** A store write that failed outside an own message (a certificate, an amendment): logged. */
  failed(err: StoreWriteError, what: string): void;
}

/** The first retry of held messages without an event, this long after the store refused one. */
export const RETRY_FIRST_MS = 1_000;
/** The longest wait between retries without an event, while the store keeps refusing. */
export const RETRY_MAX_MS = 30_000;

/**
 * `writesFrom`: while the writer backs off after a failed write, when it writes again (ms, `now`'s
 * clock; MessageWriter.ownTriedFrom); before then it refuses without writing.
 */
export function createUnstoredOwnMessages(
  log: Logger,
  now: () => number,
  writesFrom: () => number = () => 0,
): UnstoredOwnMessages {
  const held: WireMessage[] = [];
  const failureLog = storeFailureLog(log, now);
  let retryAt = Number.POSITIVE_INFINITY;
  /** The wait before retryAt. */
  let retryDelay = RETRY_FIRST_MS;

  /** `from`: writesFrom() as it was before the refused try (the try itself moves it). */
  const refused = (from: number): void => {
    const at = now();
    if (retryAt === Number.POSITIVE_INFINITY) {
      retryAt = at + retryDelay;
    } else if (at >= retryAt) {
      if (at < from) {
        retryAt = from;
        return;
      }
      retryDelay = Math.min(2 * retryDelay, RETRY_MAX_MS);
      retryAt = at + retryDelay;
    }
  };

  const report = (err: StoreWriteError, what: string): void =>
    failureLog(
      { err: err.message, what, held: held.length },
      "store write failed: own messages wait unpublished, retried at the next event or timer",
    );

  /** The publish's promise, or the store's refusal; anything else throws. */
  const attempt = (
    message: WireMessage,
    send: (m: WireMessage) => Promise<void>,
  ): Promise<void> | StoreWriteError => {
    try {
      return send(message);
    } catch (err) {
      if (err instanceof StoreWriteError) return err;
      throw err;
    }
  };

  return {
    get retryAt() {
      return retryAt;
    },
    send: (message, send) => {
      if (held.length > 0) {
        held.push(message);
        return null;
      }
      const from = writesFrom();
      const done = attempt(message, send);
      if (!(done instanceof StoreWriteError)) return done;
      held.push(message);
      refused(from);
      report(done, message.kind);
      return null;
    },
    retry: (send) => {
      const published: Promise<void>[] = [];
      const before = held.length;
      const from = writesFrom();
      while (held.length > 0) {
        const done = attempt(held[0] as WireMessage, send);
        if (done instanceof StoreWriteError) {
          refused(from);
          report(done, (held[0] as WireMessage).kind);
          break;
        }
        held.shift();
        published.push(done);
      }
      if (before > 0 && held.length === 0) {
        retryAt = Number.POSITIVE_INFINITY;
        retryDelay = RETRY_FIRST_MS;
        log.info({ sent: before }, "store writes again: held own messages stored and published");
      }
      return published;
    },
    failed: report,
  };
}
