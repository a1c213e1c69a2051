import { agentProfileSchema, parseWith } from "@walras/protocol";
import { InputError } from "../../cli-error.ts";
import { jsonText, writeOutput } from "../../write-output.ts";

export interface AgentCreateFlags {
  readonly valuation: string;
  readonly cost: string;
  readonly footprint: string;
  readonly out?: string;
}

export async function runAgentCreate(flags: AgentCreateFlags): Promise<void> {
  const input = {
    valuation: parseSpec("--valuation", flags.valuation, ["log", "quadratic", "power"]),
    cost: parseSpec("--cost", flags.cost, ["linear", "quadratic"]),
    footprint: parseFootprint(flags.footprint),
  };
  const parsed = parseWith(agentProfileSchema, input, "agent");
  if (!parsed.ok) throw new InputError(parsed.error.replace(/^agent: (valuation|cost)\./, "--$1 "));
  await writeOutput(jsonText(parsed.value), flags.out);
}

/** `kind:key=value,key=value` into `{ kind, key: value, ... }`; the schema judges the rest. */
function parseSpec(flag: string, spec: string, kinds: readonly string[]): Record<string, unknown> {
  const m = /^([a-z]+)(?::(.*))?$/.exec(spec.trim());
  if (!m) throw new InputError(`${flag} ${spec}: expected kind:key=value,... e.g. log:alpha=12`);
  if (!kinds.includes(m[1] as string))
    throw new InputError(`${flag} ${spec}: unknown kind "${m[1]}" (one of ${kinds.join(", ")})`);
  const out: Record<string, unknown> = { kind: m[1] };
  for (const part of (m[2] ?? "").split(",").filter((p) => p.trim() !== "")) {
    const kv = /^\s*([A-Za-z]+)\s*=\s*(.+?)\s*$/.exec(part);
    const value = kv ? Number(kv[2]) : Number.NaN;
    if (!kv || !Number.isFinite(value)) throw new InputError(`${flag} ${spec}: "${part}" is not key=number`);
    out[kv[1] as string] = value;
  }
  return out;
}

function parseFootprint(text: string): number[] {
  const parts = text.split(",").map((s) => s.trim());
  const values = parts.map(Number);
  const bad = parts.findIndex((p, i) => p === "" || !Number.isFinite(values[i]));
  if (bad >= 0) throw new InputError(`--footprint ${text}: entry ${bad + 1} is not a number`);
  return values;
}
