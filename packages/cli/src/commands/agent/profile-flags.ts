import type { AgentProfile } from "@walras/protocol";
import { InputError } from "../../cli-error.ts";

/**
 * The flag syntax of an agent profile, shared by `agent create`, `agent update` and `devnet
 * --rebid`: `--valuation kind:key=value,...`, `--cost kind:key=value,...`, `--footprint a,b,...`.
 * These parse the syntax only; the profile schema (or the node) judges the values.
 */
export const VALUATION_KINDS = ["log", "quadratic", "power"] as const;
export const COST_KINDS = ["linear", "quadratic"] as const;

export function parseValuation(flag: string, spec: string): AgentProfile["valuation"] {
  return parseSpec(flag, spec, VALUATION_KINDS) as unknown as AgentProfile["valuation"];
}

export function parseCost(flag: string, spec: string): AgentProfile["cost"] {
  return parseSpec(flag, spec, COST_KINDS) as unknown as AgentProfile["cost"];
}

/** `kind:key=value,key=value` into `{ kind, key: value, ... }`. */
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

export function parseFootprint(text: string): number[] {
  const parts = text.split(",").map((s) => s.trim());
  const values = parts.map(Number);
  const bad = parts.findIndex((p, i) => p === "" || !Number.isFinite(values[i]));
  if (bad >= 0) throw new InputError(`--footprint ${text}: entry ${bad + 1} is not a number`);
  return values;
}
