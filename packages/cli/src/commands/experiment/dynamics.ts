import {
  type DynamicsExperiment,
  type DynamicsExperimentOptions,
  resolveShockSchedule,
  runDynamicsExperiment,
  type Shock,
} from "@walras/protocol";
import type { Command } from "commander";
import { renderSvgPanels } from "../../chart/svg-panels.ts";
import { InputError } from "../../cli-error.ts";
import { jsonText, writeOutput } from "../../write-output.ts";
import { dynamicsFigure } from "./dynamics-figure.ts";
import { formatDynamics } from "./dynamics-format.ts";

export interface ExperimentDynamicsFlags {
  readonly shock: Shock;
  readonly slots: number;
  readonly agents: number;
  readonly capacity: number;
  readonly tau: number;
  readonly g: number;
  readonly seed: number;
  readonly at?: number;
  readonly until?: number;
  readonly shockTau: number;
  readonly shockCapacity: number;
  readonly churn: number;
  readonly drift: number;
  readonly rule: "newton" | "gradient";
  readonly maxRounds: number;
  readonly svg?: string;
  readonly json?: boolean;
  readonly live?: boolean;
  readonly nodes: number;
  readonly periodMs: number;
  readonly timeout: number;
}

/** Flags that only a live run reads. */
const LIVE_ONLY = ["nodes", "periodMs", "timeout"] as const;
const FLAG = { nodes: "--nodes", periodMs: "--period-ms", timeout: "--timeout" } as const;

export async function runExperimentDynamics(flags: ExperimentDynamicsFlags, command: Command): Promise<void> {
  const given = (name: string) => command.getOptionValueSource(name) === "cli";
  if (flags.live) return runLive(flags, given);
  const stray = LIVE_ONLY.find(given);
  if (stray) throw new InputError(`experiment dynamics: ${FLAG[stray]} needs --live`);
  const result = run({
    ...shockOptions(flags, {
      slots: flags.slots,
      agents: flags.agents,
      capacity: flags.capacity,
      shockCapacity: flags.shockCapacity,
    }),
    maxRounds: flags.maxRounds,
  });
  if (flags.svg !== undefined) await writeOutput(renderSvgPanels(dynamicsFigure(result)), flags.svg);
  await writeOutput(flags.json ? jsonText(result) : formatDynamics(result), undefined);
}

/**
 * A live run has one node process per agent, so --nodes replaces --agents, and the engine's
 * defaults scale down with it: 10 slots, capacity 1.5 per node (devnet's: it binds at the paper's
 * fees with a handful of agents, before and after the fee shock), and a capacity shock to 70% of
 * it (the engine's 100 -> 70).
 */
async function runLive(flags: ExperimentDynamicsFlags, given: (name: string) => boolean): Promise<void> {
  if (given("agents"))
    throw new InputError("experiment dynamics --live: one node per agent: give --nodes, not --agents");
  const schedule = resolved(
    shockOptions(flags, {
      slots: given("slots") ? flags.slots : 10,
      agents: flags.nodes,
      capacity: given("capacity") ? flags.capacity : 1.5 * flags.nodes,
      shockCapacity: given("shockCapacity") ? flags.shockCapacity : 1.05 * flags.nodes,
    }),
  );
  const { runLiveDynamics } = await import("./dynamics-live.ts");
  await runLiveDynamics({
    schedule,
    nodes: flags.nodes,
    periodMs: flags.periodMs,
    maxRounds: flags.maxRounds,
    slotTimeoutMs: flags.timeout * 1000,
    svg: flags.svg,
    json: flags.json,
  });
}

function resolved(options: DynamicsExperimentOptions) {
  try {
    return resolveShockSchedule(options);
  } catch (err) {
    if (err instanceof RangeError)
      throw new InputError(
        `experiment dynamics --live: ${flagNames(err.message).replace(/^--agents /, "--nodes ")}`,
      );
    throw err;
  }
}

/** Options that are each fine but clash (--at past --slots) are the user's error: exit 2. */
function run(options: DynamicsExperimentOptions): DynamicsExperiment {
  try {
    return runDynamicsExperiment(options);
  } catch (err) {
    if (err instanceof RangeError) throw new InputError(`experiment dynamics: ${flagNames(err.message)}`);
    throw err;
  }
}

/** The engine names its options as fields ("at must be ..."); the user typed flags. */
function flagNames(message: string): string {
  return message
    .replace(/^shock capacity /, "--shock-capacity ")
    .replace(/^shock tau /, "--shock-tau ")
    .replace(
      /^(slots|agents|at|until|capacity|tau|g|churn|drift|maxRounds) /,
      (_, name: string) => `--${name === "maxRounds" ? "max-rounds" : name} `,
    );
}

/** The shock schedule's options from the flags; the market's size comes from the caller (an engine run or a live one). */
function shockOptions(
  flags: ExperimentDynamicsFlags,
  size: { slots: number; agents: number; capacity: number; shockCapacity: number },
) {
  return {
    shock: flags.shock,
    ...size,
    tau: flags.tau,
    g: flags.g,
    seed: flags.seed,
    at: flags.at,
    until: flags.until ?? null,
    shockTau: flags.shockTau,
    churn: flags.churn,
    drift: flags.drift,
    rule: flags.rule,
  };
}
