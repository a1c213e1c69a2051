import type { Logger } from "pino";
import { rateLimited } from "./rate-limited.ts";

/** At most one line per this many ms while writes keep failing: a full disk fails every event. */
export const STORE_FAILURE_LOG_MS = 10_000;

/**
 * An error line for a store write that failed, at most once per STORE_FAILURE_LOG_MS; the line
 * says how many more failed since the last one (`alsoFailed`, left out when none did).
 */
export type StoreFailureLog = (fields: Readonly<Record<string, unknown>>, message: string) => void;

export function storeFailureLog(log: Logger, now: () => number): StoreFailureLog {
  const limit = rateLimited(STORE_FAILURE_LOG_MS, now);
  return (fields, message) =>
    limit((heldBack) => log.error({ ...fields, ...(heldBack > 0 ? { alsoFailed: heldBack } : {}) }, message));
}
