/**
 * `pnpm bench`: runs the bench sections and prints their tables. Benches measure; they never
 * assert (speed targets are read off the tables).
 *
 *   pnpm bench                                   engine, network at 10 and 25 nodes (both modes),
 *                                                aggregation at 1,000 and 10,000 simulated agents
 *   pnpm bench --engine                          only the engine section
 *   pnpm bench --network --nodes 10,25,50        the network matrix, in one process and as processes
 *   pnpm bench --network --nodes 100 --processes 100 node processes, once
 *   pnpm bench --only engine,network             sections by name (same as the flags above)
 *   pnpm bench --network --timeout-s 300         give each phase longer (a busy machine)
 *   pnpm bench --network --round-ms 30000        the bench contract's round timeout (default 5 s)
 *   pnpm bench --only concurrent-start --trials 10   issue 9's trial repeated (opt-in: minutes)
 *   pnpm bench --only scale --agents 1000,10000  simulated WAN markets of many agents (opt-in: minutes;
 *                                                flags --cpu-ms, --full-up-to, --machines, --seed)
 *   pnpm bench --only gossip-floor --nodes 50   bare hosts with the node's transport, no walras: what one
 *                                                round of n messages costs the transport alone, in one
 *                                                process and as processes (opt-in; flags --rounds,
 *                                                --bytes, --in-process, --processes)
 *   pnpm bench --only slots --nodes 50 --processes   a market over time on a running network: a tenth of
 *                                                the members rebid, slot after slot; bids → certificate
 *                                                (opt-in; --slots K, default 5)
 *   pnpm bench --only aggregation                the same under committee aggregation, a timing model
 *                                                (in the default run; flags --agents, --cpu-ms, --seed,
 *                                                --model sums|hinges: the newton rule's model, default sums)
 */
import { parseArgs } from "node:util";
import { aggregationBench } from "./aggregation.ts";
import { concurrentStartBench } from "./concurrent-start.ts";
import { engineBench } from "./engine.ts";
import { gossipFloorBench } from "./gossip-floor/section.ts";
import { type NetworkMode, networkBench } from "./network/section.ts";
import { slotsBench } from "./network/slots-section.ts";
import { scaleBench } from "./scale.ts";

export interface BenchOptions {
  /** Network sizes to run. */
  readonly nodes: readonly number[];
  /** Where the network's nodes run: all in this process, or one OS process each. */
  readonly modes: readonly NetworkMode[];
  /** How long a network may take to mesh, and then to certify (default 60 s + 2 s per node). */
  readonly timeoutS?: number;
  /**
   * The bench contract's round timeout. A round must fit in it: 100 processes on 2 cores need
   * about 20 s of CPU a round, and at the default 5 s members were dropped as stuck, epoch after
   * epoch.
   */
  readonly roundMs?: number;
  /** Repetitions of a section that measures a distribution (concurrent-start). */
  readonly trials?: number;
  /** Slots the slots section runs on each network. */
  readonly slots?: number;
}

export interface BenchSection {
  readonly name: string;
  readonly description: string;
  run(options: BenchOptions): void | Promise<void>;
}

const sections: readonly BenchSection[] = [
  engineBench,
  networkBench,
  aggregationBench,
  concurrentStartBench,
  scaleBench,
  gossipFloorBench,
  slotsBench,
];
/** Sections that take minutes of their own: run only when named. */
const OPT_IN = new Set(["concurrent-start", "scale", "gossip-floor", "slots"]);
const DEFAULT_NODES = [10, 25];

function parse(argv: readonly string[]): { sections: readonly BenchSection[]; options: BenchOptions } {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      only: { type: "string" },
      engine: { type: "boolean", default: false },
      network: { type: "boolean", default: false },
      nodes: { type: "string" },
      "round-ms": { type: "string" },
      processes: { type: "boolean", default: false },
      "in-process": { type: "boolean", default: false },
      "timeout-s": { type: "string" },
      trials: { type: "string" },
      slots: { type: "string" },
      // The scale section reads these itself (bench/scale.ts).
      agents: { type: "string" },
      "cpu-ms": { type: "string" },
      "full-up-to": { type: "string" },
      machines: { type: "string" },
      seed: { type: "string" },
      // The aggregation section reads this itself (bench/aggregation.ts).
      model: { type: "string" },
      // The gossip-floor section reads these itself (bench/gossip-floor/section.ts).
      rounds: { type: "string" },
      bytes: { type: "string" },
    },
    strict: true,
  });
  const names = [
    ...(values.only?.split(",").map((s) => s.trim()) ?? []),
    ...(values.engine ? ["engine"] : []),
    ...(values.network ? ["network"] : []),
  ];
  const unknown = names.filter((n) => !sections.some((s) => s.name === n));
  if (unknown.length > 0)
    throw new Error(
      `--only: unknown section ${unknown.join(", ")} (known: ${sections.map((s) => s.name).join(", ")})`,
    );
  const nodes = values.nodes === undefined ? DEFAULT_NODES : values.nodes.split(",").map(nodeCount);
  const modes: NetworkMode[] = [];
  if (values["in-process"]) modes.push("in-process");
  if (values.processes) modes.push("processes");
  return {
    sections:
      names.length === 0
        ? sections.filter((s) => !OPT_IN.has(s.name))
        : sections.filter((s) => names.includes(s.name)),
    options: {
      nodes,
      modes: modes.length === 0 ? ["in-process", "processes"] : modes,
      ...(values["timeout-s"] !== undefined
        ? { timeoutS: positive("--timeout-s", values["timeout-s"]) }
        : {}),
      ...(values.trials !== undefined ? { trials: wholePositive("--trials", values.trials) } : {}),
      ...(values.slots !== undefined ? { slots: wholePositive("--slots", values.slots) } : {}),
      ...(values["round-ms"] !== undefined
        ? { roundMs: wholePositive("--round-ms", values["round-ms"]) }
        : {}),
    },
  };
}

function positive(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag}: "${text}" is not a positive number`);
  return n;
}

function wholePositive(flag: string, text: string): number {
  const n = Number(text.trim());
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag}: "${text}" is not a whole number >= 1`);
  return n;
}

function nodeCount(text: string): number {
  const n = Number(text.trim());
  if (!Number.isInteger(n) || n < 2) throw new Error(`--nodes: "${text}" is not a whole number >= 2`);
  return n;
}

try {
  const { sections: chosen, options } = parse(process.argv.slice(2));
  for (const section of chosen) {
    console.log(`\n## ${section.name}: ${section.description}\n`);
    await section.run(options);
  }
} catch (e) {
  console.error(`bench: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
}
