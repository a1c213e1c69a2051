import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NodeStatus } from "@walras/node";
import { type NodeProcess, processCpuMs, spawnNode } from "@walras/test-support";
import type { BenchCluster, BenchMarket } from "./bench-cluster.ts";
import { putBid } from "./put-bid.ts";

/** Node processes started at once: more only starve each other on a 2-core machine. */
const SPAWN_CONCURRENCY = 3;
/** Generous: the machine may be busy with other work, and startup time is reported, not judged. */
const START_TIMEOUT_MS = 120_000;

/**
 * The first node and up to two others already up, at random, as an operator lists several seed
 * nodes. With the first alone, 99 processes dialed one node that was doing its own work on a
 * starved machine, and for minutes 1–5 of them held no connection at all (docs/scaling.md §5).
 */
function bootstrapFor<T extends { readonly multiaddr: string }>(first: T, up: readonly T[]): string[] {
  const others = up.filter((n) => n !== first);
  const picked = new Set<T>();
  while (picked.size < Math.min(2, others.length))
    picked.add(others[Math.floor(Math.random() * others.length)] as T);
  return [first.multiaddr, ...[...picked].map((n) => n.multiaddr)];
}

/**
 * Starts `n` processes into `started`: the first alone, then the rest `SPAWN_CONCURRENCY` at a
 * time, each bootstrapped from the first and two others already up.
 */
export async function spawnAll<T extends { readonly multiaddr: string }>(
  n: number,
  spawn: (i: number, bootstrap: string[]) => Promise<T>,
  started: T[],
): Promise<void> {
  const first = await spawn(0, []);
  started.push(first);
  let next = 1;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      started.push(await spawn(i, bootstrapFor(first, started)));
    }
  };
  await Promise.all(Array.from({ length: SPAWN_CONCURRENCY }, worker));
}

/** One OS process per node (the @walras/test-support spawner), bootstrapped from the first and two others. */
export async function startProcessCluster(market: BenchMarket): Promise<BenchCluster> {
  const root = mkdtempSync(join(tmpdir(), "walras-bench-"));
  const nodes: NodeProcess[] = [];
  const dataDir = (i: number) => join(root, `n${i}`);
  const index = new Map<NodeProcess, number>();
  const spawn = (i: number, bootstrap: string[]) =>
    spawnNode(
      {
        contract: market.contract,
        profile: market.agents[i] as NonNullable<(typeof market.agents)[number]>,
        dataDir: dataDir(i),
        bootstrap,
      },
      { startTimeoutMs: START_TIMEOUT_MS },
    ).then((node) => {
      index.set(node, i);
      return node;
    });
  const stop = async () => {
    await Promise.allSettled(nodes.map((node) => node.kill("SIGKILL")));
    rmSync(root, { recursive: true, force: true });
  };
  try {
    await spawnAll(market.agents.length, spawn, nodes);
    // They came up in any order: node i runs market.agents[i], as in the in-process cluster.
    nodes.sort((a, b) => (index.get(a) as number) - (index.get(b) as number));
  } catch (err) {
    await stop();
    throw err;
  }
  // A busy node may miss one poll: that is "not yet", but a node that exited ends the run.
  const get = <T>(path: string, parse: (r: Response) => Promise<T>) =>
    Promise.all(
      nodes.map(async (node, i) => {
        if (node.child.exitCode !== null || node.child.signalCode !== null)
          throw new Error(`node ${i} exited (${node.child.exitCode ?? node.child.signalCode})`);
        try {
          return await parse(await fetch(`${node.httpUrl}${path}`));
        } catch {
          return null;
        }
      }),
    );
  return {
    size: nodes.length,
    statuses: () => get("/status", (r) => r.json() as Promise<NodeStatus>),
    metrics: async () => (await get("/metrics", (r) => r.text())).map((t) => t ?? ""),
    cpuMs: () => nodes.reduce((sum, node) => sum + processCpuMs(node.child.pid as number), 0),
    rebid: (i, profile) => putBid((nodes[i] as NodeProcess).httpUrl, dataDir(i), profile),
    stop,
  };
}
