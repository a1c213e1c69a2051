import { flushCompileCache } from "node:module";
import { createHost, loadOrCreateKey } from "@walras/node";
import { joinFloor } from "./floor-member.ts";

/**
 * One bare host in an OS process of its own, driven over Node's IPC channel by
 * `process-hosts.ts`. It reports when it is up, its mesh size whenever that changes, and each
 * round it has received in full; it publishes when told and reports its receptions when asked.
 */
export interface HostProcessConfig {
  readonly hosts: number;
  readonly keyFile: string;
  readonly bootstrap: readonly string[];
}

export type ToHost =
  | { readonly type: "publish"; readonly round: number; readonly bytes: number }
  | { readonly type: "report" };

export type FromHost =
  | { readonly type: "up"; readonly multiaddr: string; readonly dlo: number }
  | { readonly type: "mesh"; readonly size: number }
  | { readonly type: "delivered"; readonly round: number }
  | { readonly type: "report"; readonly receptions: number };

/** How often the host looks at its mesh: gossipsub changes it only at its heartbeat (500 ms). */
const MESH_POLL_MS = 100;

async function main(config: HostProcessConfig): Promise<void> {
  const send = (message: FromHost) => process.send?.(message);
  const { privateKey } = await loadOrCreateKey(config.keyFile);
  const host = await createHost({
    privateKey,
    listen: ["/ip4/127.0.0.1/tcp/0"],
    bootstrap: [...config.bootstrap],
  });
  const member = joinFloor(host, (round) => {
    if (member.got(round) === config.hosts - 1) send({ type: "delivered", round });
  });
  let mesh = -1;
  setInterval(() => {
    const size = member.meshSize();
    if (size === mesh) return;
    mesh = size;
    send({ type: "mesh", size });
  }, MESH_POLL_MS);
  process.on("message", (message: ToHost) => {
    if (message.type === "publish") void member.publish(message.round, message.bytes);
    else send({ type: "report", receptions: member.receptions() });
  });
  // The parent ends the run by closing the channel (or killing the process).
  process.once("disconnect", () => void host.stop().finally(() => process.exit(0)));
  flushCompileCache();
  send({ type: "up", multiaddr: String(host.libp2p.getMultiaddrs()[0]), dlo: member.dlo });
}

if (import.meta.main) {
  main(JSON.parse(process.argv[2] ?? "{}") as HostProcessConfig).catch((err: unknown) => {
    process.stderr.write(`floor host: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
