import { InvalidArgumentError, Option } from "commander";
import { positiveInteger } from "../../option-parsers.ts";

/**
 * Options shared by `node start` and `testnet join`. Each also reads a WALRAS_* variable (the
 * Docker image sets them); a flag on the command line wins over the environment.
 */
export function nodeRuntimeOptions(): Option[] {
  return [
    new Option("--key <file>", "identity key file (created 0600 if absent; default <data-dir>/node.key)").env(
      "WALRAS_KEY",
    ),
    new Option("--data-dir <dir>", "where the node keeps its key, messages and certificates")
      .env("WALRAS_DATA_DIR")
      .default(".walras"),
    new Option(
      "--listen <multiaddr...>",
      "listen addresses (repeat or comma-separate; default /ip4/0.0.0.0/tcp/0)",
    )
      .env("WALRAS_LISTEN")
      .argParser(multiaddrList),
    new Option("--http <port>", "serve GET /status, /certificate, /metrics on this port (0 picks one)")
      .env("WALRAS_HTTP_PORT")
      .argParser(port),
    new Option("--http-host <host>", "interface of the HTTP status API")
      .env("WALRAS_HTTP_HOST")
      .default("127.0.0.1"),
    ...httpLimitOptions(),
    new Option("--log-level <level>", "log level (logs go to stderr)")
      .env("WALRAS_LOG_LEVEL")
      .choices(["trace", "debug", "info", "warn", "error", "fatal", "silent"])
      .default("info"),
  ];
}

/**
 * The HTTP server's limits (docs/security.md). Unset, the node's defaults apply
 * (DEFAULT_HTTP_LIMITS in @walras/node, which the help repeats: node-options.test.ts checks it).
 */
export const HTTP_LIMIT_FLAGS = {
  maxConnections: {
    flag: "--http-max-connections <n>",
    env: "WALRAS_HTTP_MAX_CONNECTIONS",
    help: "HTTP connections open at once; one more is answered 503 and closed (default 128)",
  },
  headersTimeoutMs: {
    flag: "--http-headers-timeout <ms>",
    env: "WALRAS_HTTP_HEADERS_TIMEOUT",
    help: "time a client gets to send a request's headers; a slower one (slow-loris) gets 408 and is disconnected (default 10000)",
  },
  requestTimeoutMs: {
    flag: "--http-request-timeout <ms>",
    env: "WALRAS_HTTP_REQUEST_TIMEOUT",
    help: "time a client gets to send a whole request, body included (default 30000)",
  },
  keepAliveTimeoutMs: {
    flag: "--http-keep-alive-timeout <ms>",
    env: "WALRAS_HTTP_KEEP_ALIVE_TIMEOUT",
    help: "an idle keep-alive connection is closed after this (default 5000)",
  },
  maxEventStreams: {
    flag: "--http-max-event-streams <n>",
    env: "WALRAS_HTTP_MAX_EVENT_STREAMS",
    help: "live dashboard feeds (/events) open at once; one more is answered 503 (default 32)",
  },
  maxBodyBytes: {
    flag: "--http-max-body <bytes>",
    env: "WALRAS_HTTP_MAX_BODY",
    help: "largest request body the write API reads; a bigger one is answered 413 and the connection closed (default 65536)",
  },
  writeStallTimeoutMs: {
    flag: "--http-write-stall-timeout <ms>",
    env: "WALRAS_HTTP_WRITE_STALL_TIMEOUT",
    help: "a client that reads none of its response (a page, an /events stream) for this long is disconnected (default 30000)",
  },
} as const;

export type HttpLimitName = keyof typeof HTTP_LIMIT_FLAGS;

/** What commander names an option's value: `--http-max-body <bytes>` -> `httpMaxBody`. */
type AttributeName<Flag extends string> = Flag extends `--${infer Long} ${string}` ? CamelCase<Long> : never;
type CamelCase<S extends string> = S extends `${infer Head}-${infer Tail}`
  ? `${Head}${Capitalize<CamelCase<Tail>>}`
  : S;

/** The limit flags' values, as commander hands them over (by HTTP_LIMIT_FLAGS, not a list of their own). */
export type HttpLimitOptions = {
  readonly [K in HttpLimitName as AttributeName<(typeof HTTP_LIMIT_FLAGS)[K]["flag"]>]?: number;
};

function httpLimitOptions(): Option[] {
  return Object.values(HTTP_LIMIT_FLAGS).map(({ flag, env, help }) =>
    new Option(flag, help).env(env).argParser(positiveInteger),
  );
}

/**
 * The HTTP limits given on the command line (or in the environment), by their node names. Each
 * flag's value is read under the name commander gives it (`--http-max-body` -> `httpMaxBody`).
 */
export function httpLimitFlags(flags: NodeRuntimeFlags): Partial<Record<HttpLimitName, number>> {
  const limits: Partial<Record<HttpLimitName, number>> = {};
  for (const [name, { flag }] of Object.entries(HTTP_LIMIT_FLAGS) as [HttpLimitName, { flag: string }][]) {
    const value = flags[new Option(flag).attributeName() as keyof HttpLimitOptions];
    if (value !== undefined) limits[name] = value;
  }
  return limits;
}

/** `--bootstrap`, for `node start`. */
export function bootstrapOption(): Option {
  return new Option(
    "--bootstrap <multiaddr...>",
    "peers to join through (repeat or comma-separate); without any, this node founds a new market",
  )
    .env("WALRAS_BOOTSTRAP")
    .argParser(multiaddrList);
}

/**
 * Accumulates multiaddrs from repeated flags, space-separated values or a comma-separated list.
 * They are checked in the action (check-addresses.ts), which loads the libp2p side only when needed.
 */
export function multiaddrList(value: string, previous: string[] | undefined): string[] {
  const added = value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  return [...(previous ?? []), ...added];
}

function port(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || n > 65535)
    throw new InvalidArgumentError("must be a port number 0-65535");
  return n;
}

export interface NodeRuntimeFlags extends HttpLimitOptions {
  readonly key?: string;
  readonly dataDir: string;
  readonly listen?: string[];
  readonly http?: number;
  readonly httpHost: string;
  readonly logLevel: string;
}
