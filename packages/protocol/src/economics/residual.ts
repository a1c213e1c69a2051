import type { Contract } from "../wire/contract.ts";
import { relativeResidual } from "./stopping-rule.ts";

interface FootprintedQuantity {
  readonly x: number;
  readonly footprint: readonly number[];
}

/** S_r = sum_i a_ir x_i, in the order given: callers pass agents in canonical (id) order. */
export function aggregateSupply(resources: number, entries: readonly FootprintedQuantity[]): number[] {
  const S = new Array<number>(resources).fill(0);
  for (const e of entries)
    for (let r = 0; r < resources; r++) S[r] = (S[r] as number) + (e.footprint[r] ?? 0) * e.x;
  return S;
}

/** The stopping rule's residual of an allocation, as a certificate verifier recomputes it. */
export function measureResidual(
  contract: Contract,
  prices: readonly number[],
  entries: readonly FootprintedQuantity[],
): number {
  const supply = aggregateSupply(contract.resources.length, entries);
  return relativeResidual(
    supply,
    contract.resources.map((r) => r.capacity),
    prices,
  );
}
