import { isIPv4, isIPv6 } from "node:net";

/**
 * DNS rebinding: a page on evil.example can make its own name resolve to 127.0.0.1 and then read
 * this node's loopback port as same-origin (/status, /ledger, /events). Its requests still carry
 * `Host: evil.example`, so a server only meant for this machine accepts only the names of this
 * machine. Returns null when the server listens elsewhere: an operator who exposed the port chose
 * the names it is reached by (a proxy, a DNS name), and no list here could know them.
 */
export function loopbackHostCheck(
  listenHost: string,
  port: number,
): ((hostHeader: string | undefined) => boolean) | null {
  if (!isLoopback(listenHost)) return null;
  const names = new Set([
    "127.0.0.1",
    "localhost",
    "[::1]",
    isIPv6(listenHost) ? `[${listenHost}]` : listenHost,
  ]);
  const allowed = new Set([...names, ...[...names].map((n) => `${n}:${port}`)]);
  // No Host at all is not a browser (every browser sends one): curl --http1.0, health probes.
  return (hostHeader) => hostHeader === undefined || allowed.has(hostHeader.toLowerCase());
}

function isLoopback(host: string): boolean {
  if (host === "localhost") return true;
  if (isIPv4(host)) return host.startsWith("127.");
  if (isIPv6(host))
    return host === "::1" || /^(0{1,4}:){7}0{0,3}1$/.test(host) || host === "::ffff:127.0.0.1";
  return false;
}
