import { InvalidArgumentError, Option } from "commander";

/** The HTTP port a node's status API listens on when nothing else is said (devnet's first node). */
export const DEFAULT_HTTP_PORT = 7001;
export const DEFAULT_NODE_URL = `http://127.0.0.1:${DEFAULT_HTTP_PORT}`;

/** `--node URL`: which node's HTTP status API to ask. */
export function nodeUrlOption(): Option {
  return new Option("--node <url>", "the node's HTTP status API")
    .default(DEFAULT_NODE_URL)
    .argParser(parseNodeUrl);
}

function parseNodeUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // The URL parser refuses a port past 65535 as it refuses garbage; say which it was.
    const port = /^https?:\/\/(?:\[[^\]]*\]|[^/:]*):(\d+)(?:\/|$)/i.exec(value)?.[1];
    if (port !== undefined && Number(port) > 65535)
      throw new InvalidArgumentError(`port ${port} is out of range (0-65535)`);
    throw new InvalidArgumentError("must be an http:// URL, e.g. http://127.0.0.1:7001");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new InvalidArgumentError("must be an http:// URL, e.g. http://127.0.0.1:7001");
  return value.replace(/\/+$/, "");
}
