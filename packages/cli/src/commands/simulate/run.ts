import { scenarioSchema } from "@walras/protocol";
import { FailureError } from "../../cli-error.ts";
import type { PriceRuleFlags } from "../../price-rule-flags.ts";
import { readJsonFile, sourceName } from "../../read-json-file.ts";
import { jsonText, writeOutput } from "../../write-output.ts";
import { formatSimulationReport } from "./format.ts";
import { buildSimulationReport } from "./report.ts";

export interface SimulateFlags extends PriceRuleFlags {
  readonly maxRounds?: number;
  readonly json?: boolean;
}

export async function runSimulate(file: string, flags: SimulateFlags): Promise<void> {
  const scenario = await readJsonFile(file, scenarioSchema);
  const report = buildSimulationReport(scenario, sourceName(file), flags);
  await writeOutput(flags.json ? jsonText(report) : formatSimulationReport(report), undefined);
  if (report.status === "round-limit" || report.status === "stalled")
    throw new FailureError(`${report.source}: no equilibrium within ${report.rounds} rounds`);
}
