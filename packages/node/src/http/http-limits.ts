/**
 * What the node's HTTP server (status, metrics, dashboard, market API) grants one client and all
 * of them together. Node's own defaults leave a slow-loris free for a minute per connection
 * (headersTimeout 60 s, checked only every 30 s) and the number of connections unbounded; these
 * are the node's, each configurable (`node start --http-*`, docs/security.md).
 */
export interface HttpLimits {
  /**
   * Connections open at once. One more is answered 503 with a one-line reason and closed. Covers
   * the /events streams, a few keep-alive connections per browser tab, scrapers and the CLI.
   */
  readonly maxConnections: number;
  /**
   * Time from a connection's first byte (or from when it opened) to the end of a request's
   * headers: real clients send them in one packet; a client that trickles them (slow-loris) is
   * answered 408 and disconnected.
   */
  readonly headersTimeoutMs: number;
  /** Time for a whole request, headers and body. Not the response: /events streams stay open. */
  readonly requestTimeoutMs: number;
  /** How long an idle keep-alive connection is kept between requests. */
  readonly keepAliveTimeoutMs: number;
  /** /events streams (dashboards) at once; one more is answered 503. */
  readonly maxEventStreams: number;
  /** Largest request body (the write API's JSON documents); a bigger one is answered 413. */
  readonly maxBodyBytes: number;
  /**
   * How long a response's unsent data may wait, the client reading none of it, before the
   * connection is dropped: a client that stops reading a large response or an /events stream
   * (write-stall.ts).
   */
  readonly writeStallTimeoutMs: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  maxConnections: 128,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxEventStreams: 32,
  maxBodyBytes: 64 * 1024,
  writeStallTimeoutMs: 30_000,
};

/** A limit that cannot be used, named (the CLI names its flag). */
export class HttpLimitsError extends RangeError {
  readonly limit: keyof HttpLimits;
  constructor(limit: keyof HttpLimits, message: string) {
    super(`HTTP limit ${limit}: ${message}`);
    this.name = "HttpLimitsError";
    this.limit = limit;
  }
}

/** `given` over the defaults; throws HttpLimitsError naming the first limit that is not usable. */
export function httpLimits(given: Partial<HttpLimits> = {}): HttpLimits {
  const limits: HttpLimits = { ...DEFAULT_HTTP_LIMITS, ...definedOnly(given) };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1)
      throw new HttpLimitsError(name as keyof HttpLimits, `must be a positive integer, not ${value}`);
  }
  // Node refuses a headers timeout longer than the request's (createServer throws).
  if (limits.headersTimeoutMs > limits.requestTimeoutMs)
    throw new HttpLimitsError(
      "headersTimeoutMs",
      `${limits.headersTimeoutMs} must not exceed requestTimeoutMs (${limits.requestTimeoutMs})`,
    );
  return limits;
}

/**
 * How often Node looks for requests past their headers or request timeout. Its default, 30 s,
 * would let a 10 s headers timeout run to 40 s; a quarter of the timeout, at most 1 s, keeps the
 * overrun small and the sweep (a walk over the open connections) rare.
 */
export function timeoutCheckIntervalMs(limits: HttpLimits): number {
  return checkIntervalMs(limits.headersTimeoutMs);
}

/** A quarter of `limitMs`, within [10 ms, 1 s]: how often a limit of that length is checked. */
export function checkIntervalMs(limitMs: number): number {
  return Math.max(10, Math.min(1_000, Math.floor(limitMs / 4)));
}

function definedOnly(given: Partial<HttpLimits>): Partial<HttpLimits> {
  return Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
}
