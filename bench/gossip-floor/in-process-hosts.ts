import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHost, type Host, loadOrCreateKey } from "@walras/node";
import type { FloorHosts } from "./floor-hosts.ts";
import { type FloorMember, joinFloor } from "./floor-member.ts";

/** n bare hosts sharing this process's event loop, bootstrapped from the first. */
export async function startInProcessHosts(n: number): Promise<FloorHosts> {
  const keys = mkdtempSync(join(tmpdir(), "walras-floor-"));
  const hosts: Host[] = [];
  const stop = async () => {
    await Promise.allSettled(hosts.map((h) => h.stop()));
    rmSync(keys, { recursive: true, force: true });
  };
  let made = 0;
  const start = async (bootstrap: string[]) => {
    const { privateKey } = await loadOrCreateKey(join(keys, `key${made++}`));
    const host = await createHost({ privateKey, listen: ["/ip4/127.0.0.1/tcp/0"], bootstrap });
    hosts.push(host);
    return host;
  };
  let wake = () => {};
  let members: FloorMember[];
  try {
    const first = await start([]);
    const bootstrap = [String(first.libp2p.getMultiaddrs()[0])];
    await Promise.all(Array.from({ length: n - 1 }, () => start(bootstrap)));
    members = hosts.map((host) => joinFloor(host, () => wake()));
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    size: n,
    dlo: members[0]?.dlo ?? 1,
    meshes: () => members.map((m) => m.meshSize()),
    delivered: (round) => members.every((m) => m.got(round) >= n - 1),
    publish: async (round, bytes) => {
      for (const member of members) await member.publish(round, bytes);
    },
    receptions: async () => members.reduce((sum, m) => sum + m.receptions(), 0),
    cpu: () => {
      const { user, system } = process.cpuUsage();
      return { userMs: user / 1000, systemMs: system / 1000 };
    },
    onChange: (w) => {
      wake = w;
    },
    stop,
  };
}
