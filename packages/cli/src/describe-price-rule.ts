import type { PriceRule } from "@walras/protocol";

/** How commands print a price rule: `newton`, `newton (sums model)`, `gradient (step 0.1)`. */
export function describePriceRule(rule: PriceRule): string {
  if (rule.kind === "gradient") return `gradient${rule.step ? ` (step ${rule.step})` : ""}`;
  return `newton${rule.model ? ` (${rule.model} model)` : ""}`;
}
