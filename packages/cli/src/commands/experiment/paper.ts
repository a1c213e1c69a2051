import { runPaperExperiment } from "@walras/protocol";
import { jsonText, writeOutput } from "../../write-output.ts";
import { experimentCsv, formatExperiment } from "./format.ts";

export interface ExperimentPaperFlags {
  readonly replications: number;
  readonly seed: number;
  readonly agents: number;
  readonly capacity: number;
  readonly tau: number;
  readonly g: number;
  readonly rule: "newton" | "gradient";
  readonly maxRounds: number;
  readonly csv?: string;
  readonly json?: boolean;
}

export async function runExperimentPaper(flags: ExperimentPaperFlags): Promise<void> {
  const result = runPaperExperiment({
    replications: flags.replications,
    seed: flags.seed,
    agents: flags.agents,
    capacity: flags.capacity,
    tau: flags.tau,
    g: flags.g,
    rule: flags.rule,
    maxRounds: flags.maxRounds,
  });
  if (flags.csv !== undefined) await writeOutput(experimentCsv(result), flags.csv);
  await writeOutput(flags.json ? jsonText(result) : formatExperiment(result), undefined);
}
