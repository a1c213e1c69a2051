import { agentProfileSchema, parseWith } from "@walras/protocol";
import { InputError } from "../../cli-error.ts";
import { jsonText, writeOutput } from "../../write-output.ts";
import { parseCost, parseFootprint, parseValuation } from "./profile-flags.ts";

export interface AgentCreateFlags {
  readonly valuation: string;
  readonly cost: string;
  readonly footprint: string;
  readonly out?: string;
}

export async function runAgentCreate(flags: AgentCreateFlags): Promise<void> {
  const input = {
    valuation: parseValuation("--valuation", flags.valuation),
    cost: parseCost("--cost", flags.cost),
    footprint: parseFootprint(flags.footprint),
  };
  const parsed = parseWith(agentProfileSchema, input, "agent");
  if (!parsed.ok) throw new InputError(parsed.error.replace(/^agent: (valuation|cost)\./, "--$1 "));
  await writeOutput(jsonText(parsed.value), flags.out);
}
