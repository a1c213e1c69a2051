import {
  type DynamicsExperiment,
  type DynamicsExperimentOptions,
  runDynamicsExperiment,
  type Shock,
} from "@walras/protocol";
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
}

export async function runExperimentDynamics(flags: ExperimentDynamicsFlags): Promise<void> {
  const result = run({
    shock: flags.shock,
    slots: flags.slots,
    agents: flags.agents,
    capacity: flags.capacity,
    tau: flags.tau,
    g: flags.g,
    seed: flags.seed,
    at: flags.at,
    until: flags.until ?? null,
    shockTau: flags.shockTau,
    shockCapacity: flags.shockCapacity,
    churn: flags.churn,
    drift: flags.drift,
    rule: flags.rule,
    maxRounds: flags.maxRounds,
  });
  if (flags.svg !== undefined) await writeOutput(renderSvgPanels(dynamicsFigure(result)), flags.svg);
  await writeOutput(flags.json ? jsonText(result) : formatDynamics(result), undefined);
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
