/**
 * `pnpm sim`: deterministic simulation testing. Runs seeded random schedules of real agent
 * machines on a simulated network (packages/protocol/src/sim), checks the protocol's invariants
 * on every event and liveness after the last fault, and prints what failed with its seed.
 *
 *   pnpm sim --seeds N [--seed S]     seeds S, S+1, …, S+N-1 (S = 1 unless given)
 *   pnpm sim --seed S --trace         replay one seed and print its trace
 *   --agents K      every schedule has exactly K agents
 *   --no-faults     no crashes, leaves, partitions, slow members or loss (starts and latency only)
 *   --no-byzantine  no Byzantine members (equivocators, replays, forgeries), the rest as drawn
 *   --no-equivocators  no equivocating members (drawn by default since the protocol excludes a
 *                   proven one, docs/protocol.md §5.1)
 *   --no-stranger   no stranger's message at the founder before it founds (drawn in about one
 *                   seed in ten with 3 agents or more: the founding gate, docs/protocol.md §9.3)
 *   --no-starved    no starved network (drawn in one seed in eight with faults: every sync answer
 *                   up to 0.5–1.5 times the fixed `messages` timeout late, for the sync client's
 *                   timer, machine/sync-request-timer.ts)
 *   --spread        members of very different sizes in one seed in five, some at their activity
 *                   cap (off by default: the newton rule stalls on some, docs/architecture.md);
 *                   --spread-decades D scales them within D decades (default 3)
 *   --no-bootstrap-draw  every joiner bootstraps from the founder (by default half the joiners
 *                   bootstrap from 1–3 agents started before them, docs/protocol.md §9.3)
 *   --founders all  every agent may found the first epoch (default: the first to start)
 *   --mesh D        gossip through a mesh of degree D (each node links to D others as it starts)
 *                   rather than by broadcast: messages cross hops and each node forwards only
 *                   what it vouches for (docs/protocol.md §5)
 *   --workers W     worker threads (default: one per core, at most 4; 1 with --trace)
 *   --keep-going    after a violation, run on to find the other invariants the seed breaks
 *   --quiet         one line per failing seed instead of its context
 *
 * Exits 1 when any seed fails, 2 on bad arguments.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { type RunOptions, runSeed } from "../../packages/protocol/src/index.ts";
import { reportOf, type SeedReport, summarize } from "./report.ts";
import type { WorkerTask } from "./worker.ts";

interface Args {
  readonly first: number;
  readonly count: number;
  readonly trace: boolean;
  readonly quiet: boolean;
  readonly workers: number;
  readonly options: RunOptions;
}

function parseArgs(argv: readonly string[]): Args {
  const integer = (flag: string, text: string | undefined, min: number): number => {
    const n = Number(text);
    if (text === undefined || !Number.isSafeInteger(n) || n < min)
      throw new Error(`${flag}: "${text ?? ""}" is not an integer >= ${min}`);
    return n;
  };
  let first = 1;
  let count: number | undefined;
  let trace = false;
  let quiet = false;
  let workers: number | undefined;
  let agents: number | undefined;
  let faults = true;
  let byzantine = true;
  let equivocators = true;
  let stranger = true;
  let starved = true;
  let bootstrapDraw = true;
  let spread = false;
  let spreadDecades: number | undefined;
  let founders: "first" | "all" = "first";
  let keepGoing = false;
  let mesh: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = (argv[i] as string).split("=", 2) as [string, string | undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case "--seeds":
        count = integer(flag, value(), 1);
        break;
      case "--seed":
        first = integer(flag, value(), 0);
        count ??= 1;
        break;
      case "--agents":
        agents = integer(flag, value(), 1);
        break;
      case "--workers":
        workers = integer(flag, value(), 1);
        break;
      case "--trace":
        trace = true;
        break;
      case "--keep-going":
        keepGoing = true;
        break;
      case "--quiet":
        quiet = true;
        break;
      case "--no-faults":
        faults = false;
        break;
      case "--no-byzantine":
        byzantine = false;
        break;
      case "--no-equivocators":
        equivocators = false;
        break;
      case "--no-stranger":
        stranger = false;
        break;
      case "--no-starved":
        starved = false;
        break;
      case "--no-bootstrap-draw":
        bootstrapDraw = false;
        break;
      case "--spread":
        spread = true;
        break;
      case "--spread-decades": {
        const v = value();
        const d = Number(v);
        if (v === undefined || !(d > 0 && d <= 6))
          throw new Error(`--spread-decades: "${v ?? ""}" is not a number in (0, 6]`);
        spreadDecades = d;
        break;
      }
      case "--mesh":
        mesh = integer(flag, value(), 1);
        break;
      case "--founders": {
        const v = value();
        if (v !== "first" && v !== "all") throw new Error(`--founders: "${v ?? ""}" is not first or all`);
        founders = v;
        break;
      }
      case "--":
        break;
      default:
        throw new Error(`unknown argument ${flag} (see the header of bench/sim/main.ts)`);
    }
  }
  return {
    first,
    count: count ?? 100,
    trace,
    quiet,
    workers: trace ? 1 : (workers ?? Math.min(4, availableParallelism())),
    options: {
      ...(agents !== undefined ? { agents } : {}),
      faults,
      byzantine,
      equivocators,
      stranger,
      starved,
      bootstrapDraw,
      spread,
      ...(spreadDecades !== undefined ? { spreadDecades } : {}),
      founders,
      keepGoing,
      ...(mesh !== undefined ? { mesh } : {}),
    },
  };
}

/** Seeds first..first+count-1 on worker threads, each taking the next seed when it is free. */
async function runInWorkers(args: Args, onReport: (r: SeedReport) => void): Promise<void> {
  const task: WorkerTask = {
    first: args.first,
    end: args.first + args.count,
    taken: new SharedArrayBuffer(4),
    options: args.options,
  };
  const workers = Math.min(args.workers, args.count);
  await Promise.all(
    Array.from({ length: workers }, (_, k) => {
      const worker = new Worker(new URL("./worker.ts", import.meta.url), { workerData: task });
      worker.on("message", onReport);
      return new Promise<void>((resolve, reject) => {
        worker.on("error", reject);
        worker.on("exit", (code) =>
          code === 0 ? resolve() : reject(new Error(`worker ${k} exited with ${code}`)),
        );
      });
    }),
  );
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const reports: SeedReport[] = [];
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  const print = (r: SeedReport) => {
    reports.push(r);
    if (r.failure.length > 0) console.log((args.quiet ? r.failure.slice(0, 1) : r.failure).join("\n"));
  };
  if (args.workers === 1) {
    for (let seed = args.first; seed < args.first + args.count; seed++) {
      const result = runSeed(seed, { ...args.options, trace: args.trace });
      if (result.trace) for (const line of result.trace) console.log(line);
      print(reportOf(result));
    }
  } else await runInWorkers(args, print);
  const cpu = process.cpuUsage(cpu0);
  console.log("");
  for (const line of summarize(reports, (cpu.user + cpu.system) / 1e6, (performance.now() - wall0) / 1000))
    console.log(line);
  return reports.some((r) => r.invariant !== null) ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(`sim: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 2;
  },
);
