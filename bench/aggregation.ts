import { type AggregationRunResult, NEWTON_MODELS, runAggregation } from "@walras/protocol";
import { choice, positiveInts, positiveNumbers } from "./flags.ts";
import type { BenchSection } from "./main.ts";

/**
 * The committee aggregation of docs/scaling.md §2 as a timing model with the real economics
 * (packages/protocol/src/sim/scale/aggregation-run.ts): virtual seconds from the epoch's decision
 * to the last node's settlement and certificate, and what a node receives and spends per round.
 * Seconds of host time at 10,000 agents.
 *
 *   pnpm bench --only aggregation [--agents 1000,10000] [--cpu-ms 0.15,2] [--seed 1] [--model sums|hinges]
 *
 * The price rule is newton with its sums model by default: the step from the sums that aggregates
 * carry (docs/scaling.md §3). `--model hinges` prices as full information does today.
 *
 * Each market twice: every message in one hop (as the scale runs model full information), then
 * with gossipsub's hop counts (⌈log₇ m⌉ for a topic of m nodes).
 */
export const aggregationBench: BenchSection = {
  name: "aggregation",
  description:
    "committee aggregation (simulated WAN 50 ± 20 ms, modelled CPU per message): time to certificate",
  run: () => {
    const agents = positiveInts("agents", "1000,10000");
    const costs = positiveNumbers("cpu-ms", "0.15,2");
    const [seed] = positiveInts("seed", "1") as [number];
    const model = choice("model", NEWTON_MODELS, "sums");
    console.log(
      `committees of 128, 4 aggregators each; newton (${model} model); seed ${seed}; times from the epoch's decision`,
    );
    console.log(HEADER);
    for (const hops of ["one", "mesh"] as const)
      for (const cpuPerMessageMs of costs)
        for (const n of agents) {
          const wall0 = performance.now();
          const r = runAggregation({ agents: n, cpuPerMessageMs, seed, hops, model });
          console.log(row(r, (performance.now() - wall0) / 1000));
        }
  },
};

const HEADER = [
  "| agents | CPU/msg ms | committees | hops (subnet, global) | rounds | mean round s | settled s | certified s | msgs/node/round | KB/node/round | CPU s/node/round | commit phase KB/node | commit phase CPU s/node | inclusion proof B | host s |",
  "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
].join("\n");

function row(r: AggregationRunResult, hostS: number): string {
  const first = r.roundsDoneMs[0] ?? 0;
  const meanRound = r.rounds > 1 ? (r.settledAtMs - first) / (r.rounds - 1) : first;
  return `| ${[
    r.agents,
    r.cpuPerMessageMs,
    r.committees,
    r.hops.join(", "),
    `${r.rounds}${r.converged ? "" : " (approximate)"}`,
    (meanRound / 1000).toFixed(3),
    (r.settledAtMs / 1000).toFixed(2),
    (r.certifiedAtMs / 1000).toFixed(2),
    r.perRound.messages.toFixed(0),
    (r.perRound.bytes / 1024).toFixed(0),
    (r.perRound.cpuMs / 1000).toFixed(3),
    (r.commitPhase.bytes / 1024).toFixed(0),
    (r.commitPhase.cpuMs / 1000).toFixed(2),
    Math.round(r.proofBytes),
    hostS.toFixed(1),
  ].join(" | ")} |`;
}
