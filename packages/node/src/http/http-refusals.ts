import type { Logger } from "pino";
import type { Counter } from "prom-client";
import { rateLimited } from "../logging/rate-limited.ts";
import { EVENTS_MAX_BUFFERED_BYTES } from "./dashboard/event-stream.ts";
import type { HttpLimits } from "./http-limits.ts";

/**
 * Why the HTTP server turned a client away: `connections` (over maxConnections: 503, closed),
 * `event_streams` (over maxEventStreams: 503), `body_too_large` (over maxBodyBytes: 413),
 * `timeout` (headers or request not in within their timeout: 408, closed), `stalled_reader` (a
 * client that read none of its response for writeStallTimeoutMs: disconnected),
 * `slow_events_reader` (an /events client reading, but slower than the market moves, so that
 * over EVENTS_MAX_BUFFERED_BYTES waited for it: disconnected, its browser reconnects).
 */
export type HttpRefusalReason =
  | "connections"
  | "event_streams"
  | "body_too_large"
  | "timeout"
  | "stalled_reader"
  | "slow_events_reader";

/** Counts every refusal and logs them without letting a flood of them flood the log. */
export interface HttpRefusals {
  refused(reason: HttpRefusalReason): void;
}

/** One line per reason at most this often, saying how many were refused since the last. */
const LOG_EVERY_MS = 60_000;

/** The bound a refusal enforces: a configurable limit, or a fixed one named with its value. */
type Bound = keyof HttpLimits | { readonly name: string; readonly value: number };

const WHAT: Readonly<Record<HttpRefusalReason, { limit: Bound; message: string }>> = {
  connections: { limit: "maxConnections", message: "HTTP: too many connections; answering 503 and closing" },
  event_streams: { limit: "maxEventStreams", message: "HTTP: too many /events streams; answering 503" },
  body_too_large: { limit: "maxBodyBytes", message: "HTTP: request body too large; answering 413" },
  timeout: {
    limit: "headersTimeoutMs",
    message: "HTTP: a client did not send its request in time (slow or stalled); answering 408 and closing",
  },
  stalled_reader: {
    limit: "writeStallTimeoutMs",
    message: "HTTP: a client stopped reading its response; disconnecting it",
  },
  slow_events_reader: {
    limit: { name: "eventsMaxBufferedBytes", value: EVENTS_MAX_BUFFERED_BYTES },
    message: "HTTP: an /events client reads slower than the market moves; disconnecting it (it reconnects)",
  },
};

export const NO_HTTP_REFUSALS: HttpRefusals = { refused: () => {} };

export function createHttpRefusals(init: {
  readonly counter: Counter<"reason">;
  readonly log: Logger;
  readonly limits: HttpLimits;
  readonly now?: () => number;
}): HttpRefusals {
  const now = init.now ?? Date.now;
  const logs = new Map<HttpRefusalReason, ReturnType<typeof rateLimited>>();
  return {
    refused(reason) {
      init.counter.inc({ reason });
      let log = logs.get(reason);
      if (!log) {
        log = rateLimited(LOG_EVERY_MS, now);
        logs.set(reason, log);
      }
      log((heldBack) => {
        const { limit, message } = WHAT[reason];
        const [name, value] =
          typeof limit === "string" ? [limit, init.limits[limit]] : [limit.name, limit.value];
        init.log.warn(
          { reason, [name]: value, refused: heldBack + 1, nextLineAfterMs: LOG_EVERY_MS },
          message,
        );
      });
    },
  };
}
