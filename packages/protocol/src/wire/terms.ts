import { canonicalJson } from "./canonical-json.ts";
import { type Contract, contractSchema } from "./contract.ts";
import type { ContractId } from "./ids.ts";

/**
 * Amended terms (docs/protocol.md §12). An amendment may change resource capacities and the fees,
 * nothing else; the amended document names the terms it replaces in `amends`, so its id is chained
 * from theirs back to the market's contract.
 */
export interface TermsChange {
  /** New capacity by resource id. */
  readonly capacities?: Readonly<Record<string, number>>;
  readonly perUnit?: number;
  readonly fixed?: number;
}

/** The terms `change` makes of `current` (whose id is `currentId`); throws a one-line error when invalid. */
export function amendTerms(current: Contract, currentId: ContractId, change: TermsChange): Contract {
  const unknown = Object.keys(change.capacities ?? {}).find(
    (id) => !current.resources.some((r) => r.id === id),
  );
  if (unknown !== undefined) throw new RangeError(`resource ${unknown}: the contract has no such resource`);
  const draft = {
    ...current,
    resources: current.resources.map((r) => ({
      id: r.id,
      capacity: change.capacities?.[r.id] ?? r.capacity,
    })),
    fees: { perUnit: change.perUnit ?? current.fees.perUnit, fixed: change.fixed ?? current.fees.fixed },
    amends: currentId,
  };
  const parsed = contractSchema.safeParse(draft);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RangeError(`amended terms: ${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}`);
  }
  return parsed.data;
}

/** What is wrong with `proposed` as an amendment of `current` (id `currentId`), or null. */
export function amendmentProblem(
  current: Contract,
  currentId: ContractId,
  proposed: Contract,
): string | null {
  if (proposed.amends !== currentId)
    return `amends: must be the current terms' id ${currentId.slice(0, 12)}…`;
  if (
    proposed.resources.length !== current.resources.length ||
    proposed.resources.some((r, i) => r.id !== current.resources[i]?.id)
  )
    return "resources: an amendment keeps the resources and their order (only capacities change)";
  const fixedPart = (c: Contract) =>
    canonicalJson({ ...c, resources: c.resources.map((r) => r.id), fees: null, amends: null });
  if (fixedPart(proposed) !== fixedPart(current))
    return "an amendment changes only resource capacities and fees";
  const same =
    proposed.fees.perUnit === current.fees.perUnit &&
    proposed.fees.fixed === current.fees.fixed &&
    proposed.resources.every((r, i) => r.capacity === current.resources[i]?.capacity);
  if (same) return "the amendment changes nothing";
  return null;
}
