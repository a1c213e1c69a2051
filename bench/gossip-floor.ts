import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHost, type Host, loadOrCreateKey } from "@walras/node";
import { nonNegativeInt } from "./flags.ts";
import type { BenchOptions, BenchSection } from "./main.ts";

/**
 * The transport's floor under a round: n bare libp2p hosts in this process, built by the node's
 * own `createHost` (TCP, Noise, Yamux, gossipsub with walras's settings) but with no walras on
 * top: no decoding, signatures, store or machine. Once every host's mesh holds gossipsub's D_lo
 * peers, each round every host publishes one message of `--bytes` (default 800, a demand's size
 * at 50 members) and the round ends when every host has received every other's. What a walras
 * round costs beyond this is walras's own work; what it costs up to this, no change in walras
 * can remove.
 */
export const gossipFloorBench: BenchSection = {
  name: "gossip-floor",
  description:
    "bare hosts with the node's transport and gossip settings: the cost of one round of n messages",
  run: async (options: BenchOptions) => {
    const rounds = nonNegativeInt("rounds", 7);
    const bytes = nonNegativeInt("bytes", 800);
    if (rounds < 1) throw new Error(`--rounds: ${rounds} runs nothing; give 1 or more`);
    // The first byte carries the round number.
    if (bytes < 1) throw new Error(`--bytes: ${bytes} leaves no room for the round number; give 1 or more`);
    console.log(`${rounds} rounds of one ${bytes}-byte message per host, on a formed mesh\n`);
    console.log(HEADER);
    for (const n of options.nodes) {
      const run = await measureFloor(n, rounds, bytes, (options.timeoutS ?? 60 + 2 * n) * 1000).catch(
        (err: Error) => {
          console.log(`| ${n} | ${err.message} |`);
          return null;
        },
      );
      if (run) console.log(row(run));
    }
  },
};

interface FloorRun {
  readonly hosts: number;
  readonly meshMs: number;
  readonly meshDegree: number;
  readonly roundMs: readonly number[];
  readonly cpuMs: number;
  readonly receptions: number;
  readonly deliveries: number;
}

const TOPIC = "/walras-bench/gossip-floor/1";

/** The router's mesh, which `GossipSub`'s public type does not show (as in `network/gossip.ts`). */
interface MeshView {
  readonly opts: { readonly Dlo: number };
  getMeshPeers(topic: string): string[];
}
const meshOf = (host: Host) => host.libp2p.services.pubsub as unknown as MeshView;

async function measureFloor(n: number, rounds: number, bytes: number, timeoutMs: number): Promise<FloorRun> {
  const hosts: Host[] = [];
  const keys = mkdtempSync(join(tmpdir(), "walras-floor-"));
  let made = 0;
  try {
    const start = async (bootstrap: string[]) => {
      const { privateKey } = await loadOrCreateKey(join(keys, `key${made++}`));
      return createHost({ privateKey, listen: ["/ip4/127.0.0.1/tcp/0"], bootstrap });
    };
    hosts.push(await start([]));
    const bootstrap = [String(hosts[0]?.libp2p.getMultiaddrs()[0])];
    hosts.push(...(await Promise.all(Array.from({ length: n - 1 }, () => start(bootstrap)))));
    const inbox = hosts.map(() => new Map<number, number>());
    let receptions = 0;
    const waiter = conditionWaiter(timeoutMs);
    for (const [i, host] of hosts.entries()) {
      const pubsub = host.libp2p.services.pubsub;
      countReceptions(pubsub, () => receptions++);
      pubsub.subscribe(TOPIC);
      pubsub.addEventListener("message", (e) => {
        if (e.detail.topic !== TOPIC) return;
        const round = e.detail.data[0] as number;
        inbox[i]?.set(round, (inbox[i]?.get(round) ?? 0) + 1);
        waiter.poke();
      });
    }
    const up = performance.now();
    const dlo = hosts[0] ? meshOf(hosts[0]).opts.Dlo : 1;
    const meshes = () => hosts.map((h) => meshOf(h).getMeshPeers(TOPIC).length);
    // D_lo and not "all its topic peers": a young network is a star whose leaves each have one
    // topic peer, and that would count as formed. A host stuck below D_lo shows as a timeout.
    await waiter.until("every host's mesh at D_lo", () => meshes().every((m) => m >= dlo));
    const meshMs = performance.now() - up;
    const meshDegree = meshes().reduce((a, b) => a + b, 0) / n;
    const cpu0 = cpuMs();
    const received0 = receptions;
    const roundMs: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      const t0 = performance.now();
      for (const host of hosts) {
        const data = randomBytes(bytes);
        data[0] = round;
        await host.libp2p.services.pubsub.publish(TOPIC, data);
      }
      await waiter.until(`round ${round} delivered to every host`, () =>
        inbox.every((got) => (got.get(round) ?? 0) >= n - 1),
      );
      roundMs.push(performance.now() - t0);
    }
    return {
      hosts: n,
      meshMs,
      meshDegree,
      roundMs,
      cpuMs: cpuMs() - cpu0,
      receptions: receptions - received0,
      deliveries: rounds * n * (n - 1),
    };
  } finally {
    await Promise.allSettled(hosts.map((h) => h.stop()));
    rmSync(keys, { recursive: true, force: true });
  }
}

/**
 * Counts every message gossipsub receives, duplicates included (its events report only the first
 * copy). `handleReceivedMessage` is gossipsub's own entry for each message of an RPC; if a new
 * version renames it, the bench says so rather than report zero.
 */
function countReceptions(pubsub: object, count: () => void): void {
  const target = pubsub as { handleReceivedMessage?: (...args: unknown[]) => unknown };
  const original = target.handleReceivedMessage;
  if (typeof original !== "function")
    throw new Error("gossipsub has no handleReceivedMessage: update bench/gossip-floor.ts for this version");
  target.handleReceivedMessage = (...args: unknown[]) => {
    count();
    return original.apply(pubsub, args);
  };
}

/** Waits for conditions re-checked whenever a message arrives (and every 50 ms), up to a deadline each. */
function conditionWaiter(timeoutMs: number) {
  let wake: (() => void) | undefined;
  return {
    poke: () => wake?.(),
    async until(what: string, done: () => boolean): Promise<void> {
      const deadline = performance.now() + timeoutMs;
      while (!done()) {
        if (performance.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 50);
        });
      }
    },
  };
}

function cpuMs(): number {
  const cpu = process.cpuUsage();
  return (cpu.user + cpu.system) / 1000;
}

const HEADER = [
  "| hosts | up→mesh s | mesh degree | s per round (min–max) | CPU s per round | receptions per delivery | CPU ms per delivery |",
  "|---:|---:|---:|---:|---:|---:|---:|",
].join("\n");

function row(r: FloorRun): string {
  const rounds = r.roundMs.length;
  const s = (ms: number) => (ms / 1000).toFixed(2);
  const mean = r.roundMs.reduce((a, b) => a + b, 0) / rounds;
  return `| ${r.hosts} | ${s(r.meshMs)} | ${r.meshDegree.toFixed(1)} | ${s(mean)} (${s(Math.min(...r.roundMs))}–${s(Math.max(...r.roundMs))}) | ${s(r.cpuMs / rounds)} | ${(r.receptions / r.deliveries).toFixed(2)} | ${(r.cpuMs / r.deliveries).toFixed(3)} |`;
}
