/**
 * The plain lines `walras node start` prints on stdout for scripts (logs go to stderr):
 *
 *   walras node <peerId> listening on <multiaddr>/p2p/<peerId> [<multiaddr>/p2p/<peerId> ...]
 *   walras node <peerId> http <url>
 */
export type NodeAnnouncement =
  | { readonly kind: "listening"; readonly peerId: string; readonly addrs: readonly string[] }
  | { readonly kind: "http"; readonly peerId: string; readonly url: string };

export function formatAnnouncement(a: NodeAnnouncement): string {
  return a.kind === "listening"
    ? `walras node ${a.peerId} listening on ${a.addrs.join(" ")}`
    : `walras node ${a.peerId} http ${a.url}`;
}

export function parseAnnouncement(line: string): NodeAnnouncement | null {
  const listening = /^walras node (\S+) listening on (.+)$/.exec(line.trim());
  if (listening)
    return { kind: "listening", peerId: listening[1] as string, addrs: (listening[2] as string).split(" ") };
  const http = /^walras node (\S+) http (\S+)$/.exec(line.trim());
  if (http) return { kind: "http", peerId: http[1] as string, url: http[2] as string };
  return null;
}

/** `addr` with this peer's /p2p/ suffix, so one string is enough to bootstrap from. */
export function withPeerId(addr: string, peerId: string): string {
  return addr.includes("/p2p/") ? addr : `${addr}/p2p/${peerId}`;
}
