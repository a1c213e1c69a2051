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
  if (!parsed.ok) throw new InputError(namingFlag(parsed.error, flags));
  await writeOutput(jsonText(parsed.value), flags.out);
}

/**
 * The schema names a profile's field (`agent: valuation.alpha: ...`, `agent: footprint[0]: ...`);
 * the user typed a flag, so the error names that instead: `--valuation alpha: ...`,
 * `--footprint 1e20: entry 1: ...`.
 */
function namingFlag(error: string, flags: AgentCreateFlags): string {
  const m = /^agent: (valuation|cost|footprint)(?:\.(\w+)|\[(\d+)\])?: (.*)$/.exec(error);
  if (!m) return error;
  const field = m[1] as "valuation" | "cost" | "footprint";
  const [, , key, index, message] = m;
  if (key !== undefined) return `--${field} ${key}: ${message}`;
  const at = index !== undefined ? `entry ${Number(index) + 1}: ` : "";
  return `--${field} ${flags[field]}: ${at}${message}`;
}
