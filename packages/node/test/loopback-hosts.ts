import { generateKeyPair } from "@libp2p/crypto/keys";
import { afterEach } from "vitest";
import { createHost, type Host, type HostInit } from "../src/network/host.ts";

/**
 * A starter of real libp2p hosts on loopback TCP, each with a fresh key, for one test file: every
 * host it started is stopped after each test. `defaults` apply to every host, `init` to one.
 */
export function loopbackHosts(defaults: Partial<HostInit> = {}): (init?: Partial<HostInit>) => Promise<Host> {
  const hosts: Host[] = [];
  afterEach(async () => {
    await Promise.all(hosts.splice(0).map((h) => h.stop()));
  });
  return async (init = {}) => {
    const host = await createHost({
      privateKey: await generateKeyPair("Ed25519"),
      listen: ["/ip4/127.0.0.1/tcp/0"],
      ...defaults,
      ...init,
    });
    hosts.push(host);
    return host;
  };
}
