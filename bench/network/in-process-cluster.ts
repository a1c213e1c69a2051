import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, startWalrasNode, type WalrasNode } from "@walras/node";
import type { BenchCluster, BenchMarket } from "./bench-cluster.ts";
import { putBid } from "./put-bid.ts";

/** Real libp2p nodes on loopback, all in this process: CPU is this process's. */
export async function startInProcessCluster(market: BenchMarket): Promise<BenchCluster> {
  const root = mkdtempSync(join(tmpdir(), "walras-bench-"));
  const logger = createLogger({ level: "silent" });
  const nodes: WalrasNode[] = [];
  const dataDir = (i: number) => join(root, `n${i}`);
  const start = (i: number, bootstrap: string[]) =>
    startWalrasNode({
      contract: market.contract,
      agent: market.agents[i] as NonNullable<(typeof market.agents)[number]>,
      dataDir: dataDir(i),
      listen: ["/ip4/127.0.0.1/tcp/0"],
      bootstrap,
      // The market API, for new bids (the slots section); nothing polls it otherwise.
      http: { port: 0, host: "127.0.0.1" },
      logger,
    });
  const stop = async () => {
    await Promise.allSettled(nodes.map((node) => node.stop({ leave: false })));
    rmSync(root, { recursive: true, force: true });
  };
  try {
    const first = await start(0, []);
    nodes.push(first);
    const bootstrap = [first.multiaddrs()[0] as string];
    // All at once, like the process cluster: started one by one, the first nodes would spend the
    // others' startup re-announcing their joins, and the bench would measure that.
    const rest = await Promise.allSettled(market.agents.slice(1).map((_, i) => start(i + 1, bootstrap)));
    for (const r of rest) if (r.status === "fulfilled") nodes.push(r.value);
    const failed = rest.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    size: nodes.length,
    statuses: async () => nodes.map((node) => node.status()),
    metrics: () => Promise.all(nodes.map((node) => node.metrics.render())),
    cpuMs: () => {
      const cpu = process.cpuUsage();
      return (cpu.user + cpu.system) / 1000;
    },
    rebid: (i, profile) => putBid((nodes[i] as WalrasNode).httpUrl as string, dataDir(i), profile),
    stop,
  };
}
