import { type AgentProfile, canonicalJson } from "@walras/protocol";
import { formatNumber } from "./text-table.ts";

/** A profile's parts in a few characters each, for tables and change lines (`log α=12`). */
export function describeValuation(v: AgentProfile["valuation"]): string {
  switch (v.kind) {
    case "log":
      return `log α=${formatNumber(v.alpha, 4)}`;
    case "quadratic":
      return `quad a=${formatNumber(v.a, 4)} b=${formatNumber(v.b, 4)}`;
    case "power":
      return `power w=${formatNumber(v.w, 4)} θ=${formatNumber(v.theta, 4)}`;
  }
}

export function describeCost(c: AgentProfile["cost"]): string {
  return c.kind === "linear"
    ? `linear β=${formatNumber(c.beta, 4)}`
    : `quad β=${formatNumber(c.beta, 4)} c=${formatNumber(c.c, 4)}`;
}

export function describeFootprint(f: AgentProfile["footprint"]): string {
  return f.map((a) => formatNumber(a)).join(",");
}

/** One line per part that differs: `valuation  log α=18.34 → log α=30`. */
export function profileChanges(before: AgentProfile, after: AgentProfile): string[] {
  const lines: string[] = [];
  const changed = (part: keyof AgentProfile) => canonicalJson(before[part]) !== canonicalJson(after[part]);
  if (changed("valuation"))
    lines.push(`valuation  ${describeValuation(before.valuation)} → ${describeValuation(after.valuation)}`);
  if (changed("cost")) lines.push(`cost       ${describeCost(before.cost)} → ${describeCost(after.cost)}`);
  if (changed("footprint"))
    lines.push(`footprint  ${describeFootprint(before.footprint)} → ${describeFootprint(after.footprint)}`);
  return lines;
}
