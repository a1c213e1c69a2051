import {
  type AggregationTraffic,
  aggregationTraffic,
  createSigner,
  DEFAULT_FRAMING_BYTES,
  runScale,
  type ScaleResult,
} from "@walras/protocol";
import { positiveInts, positiveNumbers } from "./flags.ts";
import type { BenchSection } from "./main.ts";

/**
 * The real machines on the simulated network under a WAN model (packages/protocol/src/sim/scale):
 * latency 50 ± 20 ms per message, a modelled CPU cost per inbound message, handled one at a time
 * per node. Virtual time to the first certificate at every machine, rounds, messages and bytes
 * each node receives per round; and the host's wall and CPU time for the run (shared machine:
 * wall is disturbed by others, CPU less so).
 *
 *   pnpm bench --only scale [--agents 100,300,1000,10000] [--cpu-ms 0.15] [--full-up-to 1000]
 *                           [--machines 50] [--seed 1]
 *
 * Markets up to --full-up-to agents run unreduced (every agent a machine); larger ones reduced:
 * --machines machines receive everything, the other agents are light agents, and the run stops
 * when every machine has settled and signed its commit (a commit names every member: at 10,000
 * members each is ~1.6 MB, and the commit exchange is left out; docs/scaling.md). Opt-in: a
 * thousand agents take minutes.
 */
export const scaleBench: BenchSection = {
  name: "scale",
  description: "simulated WAN (50 ± 20 ms, modelled CPU per message), real machines: time to certificate",
  run: () => {
    const agents = positiveInts("agents", "100,300,1000,10000");
    const [cpuMs] = positiveNumbers("cpu-ms", "0.15") as [number];
    const [fullUpTo] = positiveInts("full-up-to", "1000") as [number];
    const [machines] = positiveInts("machines", "50") as [number];
    const [seed] = positiveInts("seed", "1") as [number];
    console.log(
      `CPU per inbound message ${cpuMs} ms; framing ${DEFAULT_FRAMING_BYTES} B per message; seed ${seed}`,
    );
    console.log(HEADER);
    const aggregation: string[] = [];
    for (const n of agents) {
      const reduced = n > fullUpTo;
      const wall0 = performance.now();
      const cpu0 = process.cpuUsage();
      const r = runScale({
        agents: n,
        cpuPerMessageMs: cpuMs,
        seed,
        ...(reduced ? { machines: Math.min(machines, n), until: "settled" as const } : {}),
      });
      const cpu = process.cpuUsage(cpu0);
      console.log(row(r, (performance.now() - wall0) / 1000, (cpu.user + cpu.system) / 1e6));
      if (r.sampleDemands.length > 0)
        aggregation.push(
          aggregationRow(
            n,
            r,
            aggregationTraffic({
              agents: n,
              committeeSize: 128,
              aggregators: 4,
              framingBytes: DEFAULT_FRAMING_BYTES,
              demands: r.sampleDemands,
              signer: createSigner(new Uint8Array(32).fill(7)),
            }),
          ),
        );
    }
    console.log(
      "\nThe same rounds under committee aggregation (docs/scaling.md §2: committees of 128, 4 aggregators each), sized from real encodings:\n",
    );
    console.log(AGGREGATION_HEADER);
    for (const line of aggregation) console.log(line);
  },
};

const HEADER = [
  "| agents | machines | rounds | epochs | founded s | settled s | certified s | msgs/node/round | KB/node/round | demand KB/node/round | commit KB | CPU s/node/round (model) | host wall s | host CPU s |",
  "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
].join("\n");

function row(r: ScaleResult, wallS: number, cpuS: number): string {
  const rounds = Math.max(1, r.rounds);
  const all = Object.values(r.received).reduce(
    (a, k) => ({ messages: a.messages + k.messages, bytes: a.bytes + k.bytes }),
    { messages: 0, bytes: 0 },
  );
  const demand = r.received.demand ?? { messages: 0, bytes: 0 };
  const s = (ms: number | null) => (ms === null ? "—" : (ms / 1000).toFixed(2));
  return `| ${[
    r.agents,
    r.machines,
    r.rounds,
    r.epochs,
    s(r.foundedAtMs),
    s(r.settledAtMs),
    s(r.certifiedAtMs),
    (all.messages / rounds).toFixed(0),
    (all.bytes / rounds / 1024).toFixed(0),
    (demand.bytes / rounds / 1024).toFixed(0),
    r.commitBytes === null ? "—" : (r.commitBytes / 1024).toFixed(0),
    (((all.messages / rounds) * r.cpuPerMessageMs) / 1000).toFixed(3),
    wallS.toFixed(1),
    cpuS.toFixed(1),
  ].join(" | ")} |`;
}

const AGGREGATION_HEADER = [
  "| agents | committees | demand B | aggregate B | msgs/node/round | KB/node/round | full-information demand KB/node/round | CPU s/node/round (model) |",
  "|---:|---:|---:|---:|---:|---:|---:|---:|",
].join("\n");

function aggregationRow(n: number, r: ScaleResult, a: AggregationTraffic): string {
  const demandKb = (r.received.demand?.bytes ?? 0) / Math.max(1, r.rounds) / 1024;
  return `| ${[
    n,
    a.committees,
    Math.round(a.demandBytes),
    Math.round(a.aggregateBytes),
    a.messages,
    (a.bytes / 1024).toFixed(0),
    demandKb.toFixed(0),
    ((a.messages * r.cpuPerMessageMs) / 1000).toFixed(3),
  ].join(" | ")} |`;
}
