import type { Contract } from "@walras/protocol";
import { printable } from "./printable.ts";
import { formatNumber } from "./text-table.ts";

/** The parts of a contract an amendment may change, in one line: `cpu=100 gpu=4; fees 0.5/unit, fixed 0`. */
export function describeTerms(terms: Pick<Contract, "resources" | "fees">): string {
  const capacities = terms.resources.map((r) => `${printable(r.id)}=${formatNumber(r.capacity)}`).join(" ");
  return `${capacities}; fees ${formatNumber(terms.fees.perUnit)}/unit, fixed ${formatNumber(terms.fees.fixed)}`;
}

/** What an amendment changed: `capacity of cpu 6 → 3, fee per unit 0.5 → 0.75`. */
export function termsChanges(before: Contract, after: Contract): string {
  const changes = after.resources
    .map((r, i) => [r, before.resources[i]?.capacity] as const)
    .filter(([r, was]) => r.capacity !== was)
    .map(
      ([r, was]) => `capacity of ${printable(r.id)} ${formatNumber(was ?? 0)} → ${formatNumber(r.capacity)}`,
    );
  if (after.fees.perUnit !== before.fees.perUnit)
    changes.push(`fee per unit ${formatNumber(before.fees.perUnit)} → ${formatNumber(after.fees.perUnit)}`);
  if (after.fees.fixed !== before.fees.fixed)
    changes.push(`fixed fee ${formatNumber(before.fees.fixed)} → ${formatNumber(after.fees.fixed)}`);
  return changes.length > 0 ? changes.join(", ") : "no change";
}
