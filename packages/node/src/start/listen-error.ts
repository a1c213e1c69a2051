/**
 * A listener the node could not open: which one, on what address, and the errno code when there
 * is one, so the CLI can name the flag that chose the address (--listen, --http, --http-host).
 */
export class ListenError extends Error {
  readonly listener: "libp2p" | "http";
  readonly address: string;
  readonly code: string | undefined;
  constructor(listener: ListenError["listener"], address: string, code: string | undefined, reason: string) {
    super(`${address}: cannot listen (${reason})`);
    this.name = "ListenError";
    this.listener = listener;
    this.address = address;
    this.code = code;
  }
}

/**
 * libp2p reports listen failures as one error whose message lists each address with its cause
 * ("  /ip4/127.0.0.1/tcp/4001: Error: listen EADDRINUSE: ...") followed by stack lines, with
 * neither `code` nor nested errors set. This reads the first failed address back out of it.
 */
export function libp2pListenError(err: unknown): ListenError | undefined {
  if (!(err instanceof Error)) return undefined;
  const failed = /^\s*(\/\S+): (?:\w*Error: )?(.+)$/m.exec(err.message);
  if (!failed) return undefined;
  const [, address, reason] = failed as unknown as [string, string, string];
  const code = /\b(E[A-Z]{3,})\b/.exec(reason)?.[1];
  return new ListenError("libp2p", address, code, reason);
}
