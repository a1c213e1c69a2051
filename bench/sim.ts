/**
 * `pnpm sim`: deterministic simulation testing. Runs seeded random schedules of real agent
 * machines on a simulated network (packages/protocol/src/sim), checks the protocol's invariants
 * on every event and liveness after the last fault, and prints what failed with its seed.
 *
 *   pnpm sim --seeds N [--seed S]       seeds S, S+1, …, S+N-1 (S = 1 by default)
 *   pnpm sim --seed S --trace           replay one seed and print its trace
 *   --agents K     every schedule has exactly K agents
 *   --no-faults    no crashes, leaves, partitions, slow members or loss (starts and latency only)
 *   --founders all every agent may found the first epoch (default: the first to start)
 *   --quiet        print only the summary and the failing seeds' one-line verdicts
 *
 * Exits 1 when any seed fails.
 */
import { INVARIANTS, type InvariantId, runSeed, type SeedResult } from "../packages/protocol/src/index.ts";

interface Args {
  first: number;
  count: number;
  trace: boolean;
  quiet: boolean;
  agents: number | undefined;
  faults: boolean;
  founders: "first" | "all";
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = {
    first: 1,
    count: 0,
    trace: false,
    quiet: false,
    agents: undefined,
    faults: true,
    founders: "first",
  };
  const integer = (flag: string, text: string | undefined, min: number): number => {
    const n = Number(text);
    if (text === undefined || !Number.isSafeInteger(n) || n < min)
      throw new Error(`${flag}: "${text ?? ""}" is not an integer >= ${min}`);
    return n;
  };
  let count: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = (argv[i] as string).split("=", 2) as [string, string | undefined];
    const value = () => inline ?? argv[++i];
    switch (flag) {
      case "--seeds":
        count = integer(flag, value(), 1);
        break;
      case "--seed":
        args.first = integer(flag, value(), 0);
        break;
      case "--agents":
        args.agents = integer(flag, value(), 1);
        break;
      case "--trace":
        args.trace = true;
        break;
      case "--quiet":
        args.quiet = true;
        break;
      case "--no-faults":
        args.faults = false;
        break;
      case "--founders": {
        const v = value();
        if (v !== "first" && v !== "all") throw new Error(`--founders: "${v ?? ""}" is not first or all`);
        args.founders = v;
        break;
      }
      case "--":
        break;
      default:
        throw new Error(`unknown argument ${flag} (see the header of bench/sim.ts)`);
    }
  }
  args.count = count ?? (argv.some((a) => a.startsWith("--seed")) ? 1 : 100);
  return args;
}

function describeFailure(r: SeedResult): string[] {
  const v = r.violation;
  if (!v) return [];
  const s = r.schedule;
  return [
    `FAIL seed ${r.seed}: ${v.invariant} (${INVARIANTS[v.invariant]}) at ${v.at.toFixed(1)} ms on ${v.node}: ${v.summary}`,
    ...v.context.map((c) => `    ${c}`),
    `    schedule: ${s.agents.length} agents, ${s.faults.length} faults, loss ${(100 * s.network.loss).toFixed(1)}%, minMembers ${s.contract.minMembers}`,
    `    replay: pnpm sim --seed ${r.seed} --trace${s.agents.length === 0 ? "" : ""}`,
  ];
}

function main(): number {
  const args = parseArgs(process.argv.slice(2));
  const limits = {
    ...(args.agents !== undefined ? { agents: args.agents } : {}),
    faults: args.faults,
    founders: args.founders,
    trace: args.trace,
  };
  const failures = new Map<InvariantId, number[]>();
  let exempt = 0;
  let events = 0;
  let worstSlack = Number.POSITIVE_INFINITY;
  let worstSlackSeed = 0;
  let maxAgents = 0;
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  for (let seed = args.first; seed < args.first + args.count; seed++) {
    const r = runSeed(seed, limits);
    events += r.events;
    maxAgents = Math.max(maxAgents, r.schedule.agents.length);
    if (r.trace) for (const line of r.trace) console.log(line);
    if (r.liveness.status === "exempt") exempt += 1;
    if (r.liveness.status === "held") {
      const slack = r.liveness.boundMs - r.liveness.afterLastChangeMs;
      if (slack < worstSlack) {
        worstSlack = slack;
        worstSlackSeed = seed;
      }
    }
    if (r.violation) {
      const list = failures.get(r.violation.invariant) ?? [];
      list.push(seed);
      failures.set(r.violation.invariant, list);
      if (args.quiet) console.log(describeFailure(r)[0]);
      else {
        for (const line of describeFailure(r)) console.log(line);
        if (!args.trace) {
          console.log("    last events:");
          for (const line of r.recent.slice(-12)) console.log(`    | ${line}`);
        }
      }
    }
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const wallS = (performance.now() - wall0) / 1000;
  const failed = [...failures.values()].reduce((n, l) => n + l.length, 0);
  console.log(
    `\nwalras sim: ${args.count} seeds (${args.first}..${args.first + args.count - 1}), ${failed} failed (${((100 * failed) / args.count).toFixed(1)}%), ${exempt} without a live majority (liveness not asked), up to ${maxAgents} agents`,
  );
  for (const [id, seeds] of [...failures.entries()].sort()) {
    const shown = seeds.slice(0, 8).join(", ");
    console.log(
      `  ${id.padEnd(8)} ${String(seeds.length).padStart(6)}  ${INVARIANTS[id]}  (seeds ${shown}${seeds.length > 8 ? ", …" : ""})`,
    );
  }
  if (Number.isFinite(worstSlack))
    console.log(
      `  liveness: smallest slack to the bound ${(worstSlack / 1000).toFixed(1)} s (seed ${worstSlackSeed})`,
    );
  console.log(
    `  ${events} events; ${cpuS.toFixed(1)} s CPU, ${wallS.toFixed(1)} s wall: ${(args.count / cpuS).toFixed(1)} seeds per CPU second`,
  );
  return failed > 0 ? 1 : 0;
}

try {
  process.exitCode = main();
} catch (e) {
  console.error(`sim: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 2;
}
