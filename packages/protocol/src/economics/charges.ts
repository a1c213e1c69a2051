import type { Contract } from "../wire/contract.ts";

/** One member's line of an allocation: what it holds and the footprint that quantity uses. */
export interface ChargedAllocation {
  readonly agent: string;
  readonly x: number;
  readonly footprint: readonly number[];
}

/**
 * What one member owes for its allocation x_i at prices p (the payoff's money terms, with the
 * sign of a payment made): resource payments p_r·a_ir·x_i, the contract's per-unit fee tau·x_i
 * and its fixed execution fee g when x_i > 0. A supplier's footprint is negative, so its resource
 * payment is negative: it is paid.
 */
export interface MemberCharges {
  readonly agent: string;
  readonly x: number;
  /** p_r·a_ir·x_i, one per resource. */
  readonly resourcePayments: readonly number[];
  /** tau·x_i */
  readonly perUnitFee: number;
  /** g when x_i > 0, else 0. */
  readonly fixedFee: number;
  readonly total: number;
}

export interface ChargeTotals {
  /** Per resource: what consumers pay minus what suppliers are paid. */
  readonly resourcePayments: readonly number[];
  readonly perUnitFees: number;
  readonly fixedFees: number;
  readonly total: number;
}

export interface Charges {
  /** In the order given: callers pass certified allocations, which are in agent-id order. */
  readonly members: readonly MemberCharges[];
  readonly totals: ChargeTotals;
}

/**
 * The charges of an allocation at given prices, as a certificate settles them. Pure arithmetic on
 * certified numbers: every node (and a later ledger) gets the same figures from the same
 * certificate, because sums run in the order of the allocation list.
 */
export function chargesAt(
  contract: Pick<Contract, "fees" | "resources">,
  prices: readonly number[],
  allocations: readonly ChargedAllocation[],
): Charges {
  const R = contract.resources.length;
  const { perUnit, fixed } = contract.fees;
  const members = allocations.map((a): MemberCharges => {
    const resourcePayments = Array.from(
      { length: R },
      (_, r) => (prices[r] ?? 0) * (a.footprint[r] ?? 0) * a.x,
    );
    const perUnitFee = perUnit * a.x;
    const fixedFee = a.x > 0 ? fixed : 0;
    const total = resourcePayments.reduce((s, v) => s + v, 0) + perUnitFee + fixedFee;
    return { agent: a.agent, x: a.x, resourcePayments, perUnitFee, fixedFee, total };
  });
  const resourcePayments = Array.from({ length: R }, (_, r) =>
    members.reduce((s, m) => s + (m.resourcePayments[r] as number), 0),
  );
  const perUnitFees = members.reduce((s, m) => s + m.perUnitFee, 0);
  const fixedFees = members.reduce((s, m) => s + m.fixedFee, 0);
  const total = members.reduce((s, m) => s + m.total, 0);
  return { members, totals: { resourcePayments, perUnitFees, fixedFees, total } };
}
