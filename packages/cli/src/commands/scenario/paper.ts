import { paperScenario } from "@walras/protocol";
import { jsonText, writeOutput } from "../../write-output.ts";

export interface PaperScenarioFlags {
  readonly agents: number;
  readonly capacity: number;
  readonly seed: number;
  readonly tau: number;
  readonly g: number;
  readonly rule: "newton" | "gradient";
  readonly out?: string;
}

export async function writePaperScenario(flags: PaperScenarioFlags): Promise<void> {
  const scenario = paperScenario({
    agents: flags.agents,
    capacity: flags.capacity,
    seed: flags.seed,
    tau: flags.tau,
    g: flags.g,
    rule: flags.rule,
  });
  await writeOutput(jsonText(scenario), flags.out);
}
