import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, startWalrasNode, type WalrasNode } from "@walras/node";
import { contractSchema, encodeMessage, paperScenario, scenarioSchema } from "@walras/protocol";
import type { BenchSection } from "./main.ts";

/**
 * Real libp2p nodes in one process on loopback: time from start to mesh, from mesh to
 * certificate, messages and bytes per node per round, CPU per round. Everything on one 2-core
 * machine, so CPU is shared by all nodes: the figures are an upper bound for a real deployment.
 */
export interface NetworkBenchRow {
  nodes: number;
  rule: string;
  rounds: number;
  startToMeshMs: number;
  meshToCertificateMs: number;
  startToCertificateMs: number;
  messagesPerNodePerRound: number;
  bytesPerNodePerRound: number;
  cpuMsPerRound: number;
}

export async function benchNetwork(
  n: number,
  rule: "newton" | "gradient",
  seed = 1,
): Promise<NetworkBenchRow> {
  const scenario = scenarioSchema.parse(
    paperScenario({ agents: n, capacity: Math.round(n * 1.5), seed, g: 0 }),
  );
  const contract = contractSchema.parse({
    ...scenario.contract,
    priceRule: rule === "newton" ? { kind: "newton" } : { kind: "gradient" },
    minMembers: n,
    timeouts: { roundMs: 5_000, announceMs: 250 },
  });
  const root = mkdtempSync(join(tmpdir(), "walras-bench-"));
  const logger = createLogger({ level: "silent" });
  const nodes: WalrasNode[] = [];
  let messages = 0;
  let bytes = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  try {
    let bootstrap: string[] = [];
    for (const [i, agent] of scenario.agents.entries()) {
      const { id: _id, ...profile } = agent;
      const node = await startWalrasNode({
        contract,
        agent: profile,
        dataDir: join(root, `n${i}`),
        listen: ["/ip4/127.0.0.1/tcp/0"],
        bootstrap,
        logger,
      });
      if (i === 0) bootstrap = [node.multiaddrs()[0] as string];
      node.onMessage((m) => {
        messages++;
        bytes += encodeMessage(m).length;
      });
      node.onAction((a) => {
        if (process.env.WALRAS_BENCH_TRACE && i === 0 && a.type !== "publish" && a.type !== "log")
          console.error(
            Math.round(performance.now() - t0),
            a.type,
            "epoch" in a ? a.epoch : "",
            "round" in a ? a.round : "",
          );
        if (a.type === "publish") {
          messages++;
          bytes += encodeMessage(a.message).length;
        }
      });
      nodes.push(node);
    }
    const meshed = () => nodes.every((node) => node.status().topicPeers > 0);
    await until(meshed, 60_000);
    const tMesh = performance.now();
    const certified = () => {
      const certs = nodes.map((node) => node.status().certificate);
      return certs.every((c) => c !== null && c.members.length === n && c.digest === certs[0]?.digest);
    };
    await until(certified, 120_000);
    const tCert = performance.now();
    const cpu = process.cpuUsage(cpu0);
    const rounds = (nodes[0]?.status().certificate?.round ?? 0) + 1;
    return {
      nodes: n,
      rule,
      rounds,
      startToMeshMs: tMesh - t0,
      meshToCertificateMs: tCert - tMesh,
      startToCertificateMs: tCert - t0,
      messagesPerNodePerRound: messages / n / rounds,
      bytesPerNodePerRound: bytes / n / rounds,
      cpuMsPerRound: (cpu.user + cpu.system) / 1000 / rounds,
    };
  } finally {
    await Promise.allSettled(nodes.map((node) => node.stop({ leave: false })));
    rmSync(root, { recursive: true, force: true });
  }
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`bench: condition not reached in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const networkBench: BenchSection = {
  name: "network",
  description: "real libp2p nodes in one process on loopback, newton: start → mesh → certificate",
  run: async () => {
    await runNetworkBench();
  },
};

export async function runNetworkBench(sizes: readonly number[] = [5, 10, 25]): Promise<NetworkBenchRow[]> {
  const rows: NetworkBenchRow[] = [];
  for (const n of sizes) rows.push(await benchNetwork(n, "newton", n));
  console.table(
    rows.map((r) => ({
      nodes: r.nodes,
      rounds: r.rounds,
      "start→mesh ms": Math.round(r.startToMeshMs),
      "mesh→certificate ms": Math.round(r.meshToCertificateMs),
      "start→certificate ms": Math.round(r.startToCertificateMs),
      "msgs/node/round": r.messagesPerNodePerRound.toFixed(1),
      "bytes/node/round": Math.round(r.bytesPerNodePerRound),
      "CPU ms/round (all nodes)": r.cpuMsPerRound.toFixed(1),
    })),
  );
  return rows;
}
