import { nonNegativeInt } from "../flags.ts";
import type { BenchOptions, BenchSection } from "../main.ts";
import type { NetworkMode } from "../network/section.ts";
import { startInProcessHosts } from "./in-process-hosts.ts";
import { startProcessHosts } from "./process-hosts.ts";

/**
 * The transport's floor under a round: n bare libp2p hosts, in this process or one OS process
 * each, built by the node's own `createHost` (TCP, Noise, Yamux, gossipsub with walras's
 * settings) but with no walras on top: no decoding, signatures, store or machine. Once every
 * host's mesh holds gossipsub's D_lo peers, each round every host publishes one message of
 * `--bytes` (default 800, a demand's size at 50 members) and the round ends when every host has
 * received every other's. What a walras round costs beyond this is walras's own work; what it
 * costs up to this, no change in walras can remove.
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
      for (const mode of options.modes) {
        const timeoutMs = (options.timeoutS ?? 60 + 2 * n) * 1000;
        const run = await measureFloor(mode, n, rounds, bytes, timeoutMs).catch((err: Error) => {
          console.log(`| ${n} | ${mode} | ${err.message} |`);
          return null;
        });
        if (run) console.log(row(run));
      }
    }
  },
};

interface FloorRun {
  readonly mode: NetworkMode;
  readonly hosts: number;
  readonly meshMs: number;
  readonly meshDegree: number;
  readonly roundMs: readonly number[];
  readonly cpuMs: number;
  readonly systemMs: number;
  readonly receptions: number;
  readonly deliveries: number;
}

async function measureFloor(
  mode: NetworkMode,
  n: number,
  rounds: number,
  bytes: number,
  timeoutMs: number,
): Promise<FloorRun> {
  const hosts = await (mode === "in-process" ? startInProcessHosts(n) : startProcessHosts(n));
  try {
    const waiter = conditionWaiter(timeoutMs);
    hosts.onChange(waiter.poke);
    const up = performance.now();
    // D_lo and not "all its topic peers": a young network is a star whose leaves each have one
    // topic peer, and that would count as formed. A host stuck below D_lo shows as a timeout.
    await waiter.until("every host's mesh at D_lo", () => hosts.meshes().every((m) => m >= hosts.dlo));
    const meshMs = performance.now() - up;
    const meshDegree = hosts.meshes().reduce((a, b) => a + b, 0) / n;
    const cpu0 = hosts.cpu();
    const received0 = await hosts.receptions();
    const roundMs: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      const t0 = performance.now();
      await hosts.publish(round, bytes);
      await waiter.until(`round ${round} delivered to every host`, () => hosts.delivered(round));
      roundMs.push(performance.now() - t0);
    }
    const cpu = hosts.cpu();
    return {
      mode,
      hosts: n,
      meshMs,
      meshDegree,
      roundMs,
      cpuMs: cpu.userMs + cpu.systemMs - cpu0.userMs - cpu0.systemMs,
      systemMs: cpu.systemMs - cpu0.systemMs,
      receptions: (await hosts.receptions()) - received0,
      deliveries: rounds * n * (n - 1),
    };
  } finally {
    await hosts.stop();
  }
}

/** Waits for conditions re-checked whenever the hosts report a change (and every 50 ms), up to a deadline each. */
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

const HEADER = [
  "| hosts | mode | up→mesh s | mesh degree | s per round (min–max) | CPU s per round | system share | receptions per delivery | CPU ms per delivery |",
  "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
].join("\n");

function row(r: FloorRun): string {
  const rounds = r.roundMs.length;
  const s = (ms: number) => (ms / 1000).toFixed(2);
  const mean = r.roundMs.reduce((a, b) => a + b, 0) / rounds;
  const system = r.cpuMs > 0 ? `${Math.round((100 * r.systemMs) / r.cpuMs)}%` : "–";
  return `| ${r.hosts} | ${r.mode} | ${s(r.meshMs)} | ${r.meshDegree.toFixed(1)} | ${s(mean)} (${s(Math.min(...r.roundMs))}–${s(Math.max(...r.roundMs))}) | ${s(r.cpuMs / rounds)} | ${system} | ${(r.receptions / r.deliveries).toFixed(2)} | ${(r.cpuMs / r.deliveries).toFixed(3)} |`;
}
