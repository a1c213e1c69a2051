import { InvalidArgumentError, Option } from "commander";

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
    new Option("--log-level <level>", "log level (logs go to stderr)")
      .env("WALRAS_LOG_LEVEL")
      .choices(["trace", "debug", "info", "warn", "error", "fatal", "silent"])
      .default("info"),
  ];
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

export interface NodeRuntimeFlags {
  readonly key?: string;
  readonly dataDir: string;
  readonly listen?: string[];
  readonly http?: number;
  readonly httpHost: string;
  readonly logLevel: string;
}
