import type { Contract } from "../wire/contract.ts";
import { PRICE_CEILING } from "./price-ceiling.ts";
import { aggregateSupply } from "./residual.ts";
import { residualTerm } from "./stopping-rule.ts";

/**
 * The stopping rule at the prices' resolution. Where one member's footprint is large against a
 * resource's capacity, one step of float64 in a price (or the rounding of its unit price
 * tau + a_i.p) moves that resource's excess by more than the tolerance allows: no representable
 * price vector meets the ordinary rule, the price rule's step rounds to nothing (its next prices
 * equal the current ones bit for bit), and the epoch used to end approximate by the stall rule.
 *
 * From such a fixed point (the *centre*) the rule probes: for each resource whose residual term
 * exceeds the tolerance, in resource order, a round at the centre's prices with only that price one
 * float step toward clearing (up where supply exceeds capacity). Where that round's excess on the
 * resource has the opposite sign (strictly) the resource is *bracketed*: its clearing price, with
 * the others held, lies between two adjacent doubles. A probe that does not bracket is a better
 * point: the price rule goes on from it. With every such resource bracketed the next round is the
 * centre again, and if its demands are bit for bit those of the first visit (an honest member's
 * are: no proximal term, no fixed fee) it converges exactly, its commit carrying the probes'
 * demands as evidence (`grid`), which a certificate's verifier checks (`bracketError`).
 *
 * Only observed demands decide: no reported slope enters (a slope can make the price rule's step
 * round to nothing far from equilibrium, but one float step from there does not cross the excess's
 * zero, so nothing is bracketed). Only under g = 0 and gamma = 0: a fixed fee makes honest demand
 * jump, and a jump across one float step is not the prices' resolution; a proximal demand depends
 * on the member's previous one, so revisiting the centre need not give the same demands.
 */
export interface GridProbe {
  readonly center: readonly number[];
  /** S - m at the centre, per resource. */
  readonly centerExcess: readonly number[];
  /**
   * Per resource: null where its term at the centre is within the tolerance, [] while it waits
   * for its probe, else the members' x (canonical order) at the probe that bracketed it.
   */
  readonly partners: readonly (readonly number[] | null)[];
  /** The resource the current round probes; -1 when it is the centre again. */
  readonly probing: number;
}

/** One bracketed resource of a commit: the members' x (member order) at its probe. */
export interface GridEvidence {
  readonly resource: number;
  readonly x: readonly number[];
}

/** Probing applies to this contract: no fixed fee, no proximal term. */
export function gridApplies(contract: Contract): boolean {
  return contract.fees.fixed === 0 && contract.proximal === 0;
}

/**
 * The double next to `v` toward +infinity (`up`) or 0, by its bit pattern: exact, so every
 * implementation computes the same probe. Non-negative v only (prices).
 */
export function adjacentPrice(v: number, up: boolean): number {
  if (v === 0) return up ? Number.MIN_VALUE : 0;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, v);
  view.setBigUint64(0, view.getBigUint64(0) + (up ? 1n : -1n));
  return view.getFloat64(0);
}

/** A probe from `center`: the next resource waiting for one, or back to the centre (-1). */
export function nextProbe(
  center: readonly number[],
  centerExcess: readonly number[],
  partners: readonly (readonly number[] | null)[],
): { probe: GridProbe; prices: number[] } | null {
  const r = partners.findIndex((p) => p !== null && p.length === 0);
  const prices = [...center];
  if (r >= 0) {
    prices[r] = adjacentPrice(center[r] as number, (centerExcess[r] as number) > 0);
    // A price at the bound cannot rise, and one at 0 cannot fall: nothing to bracket there.
    if (prices[r] === center[r] || (prices[r] as number) > PRICE_CEILING) return null;
  }
  return { probe: { center, centerExcess, partners, probing: r }, prices };
}

/** A fixed point of the price rule that does not converge: the first probe from it, if any. */
export function startProbe(
  contract: Contract,
  prices: readonly number[],
  excess: readonly number[],
): { probe: GridProbe; prices: number[] } | null {
  const tolerance = contract.tolerance.residual;
  const partners = contract.resources.map((res, r) =>
    residualTerm(excess[r] as number, res.capacity, prices[r] as number) > tolerance ? [] : null,
  );
  return nextProbe(prices, excess, partners);
}

/** Opposite signs, strictly: the excess's zero lies between the two prices. */
export function brackets(centerExcess: number, probeExcess: number): boolean {
  return (centerExcess > 0 && probeExcess < 0) || (centerExcess < 0 && probeExcess > 0);
}

/** The evidence a grid-converged commit carries, from the probe state at the centre. */
export function gridEvidence(probe: GridProbe): GridEvidence[] {
  const evidence: GridEvidence[] = [];
  probe.partners.forEach((x, resource) => {
    if (x !== null) evidence.push({ resource, x });
  });
  return evidence;
}

interface Allocation {
  readonly x: number;
  readonly footprint: readonly number[];
}

/**
 * What a verifier checks of an exact commit whose residual exceeds the tolerance (null: it holds):
 * the contract allows probing; every resource whose term exceeds the tolerance, and only those,
 * has one entry, in resource order; and each entry's x (with the commit's footprints, summed in
 * member order) leave an excess of the opposite sign to the commit's on that resource.
 */
export function bracketError(
  contract: Contract,
  prices: readonly number[],
  allocations: readonly Allocation[],
  grid: readonly GridEvidence[],
): string | null {
  if (!gridApplies(contract)) return "grid: the contract has a fixed fee or a proximal term";
  const R = contract.resources.length;
  const supply = aggregateSupply(R, allocations);
  const tolerance = contract.tolerance.residual;
  let next = 0;
  for (let r = 0; r < R; r++) {
    const m = contract.resources[r]?.capacity as number;
    const excess = (supply[r] as number) - m;
    const over = residualTerm(excess, m, prices[r] as number) > tolerance;
    const entry = grid[next]?.resource === r ? grid[next] : undefined;
    if (over !== (entry !== undefined))
      return over
        ? `grid: resource ${r} exceeds the tolerance and has no bracket`
        : `grid: resource ${r} is within the tolerance or out of order`;
    if (entry === undefined) continue;
    next += 1;
    if (entry.x.length !== allocations.length)
      return `grid[${next - 1}].x: must have one entry per member (${allocations.length})`;
    const probe = aggregateSupply(
      R,
      allocations.map((a, i) => ({ x: entry.x[i] as number, footprint: a.footprint })),
    );
    if (!brackets(excess, (probe[r] as number) - m))
      return `grid: the probe of resource ${r} does not bracket its clearing price`;
  }
  if (next !== grid.length) return "grid: entries out of resource order";
  return null;
}

export interface GridRound {
  /** The probe state after this round (null: none under way). */
  readonly probe: GridProbe | null;
  /** Prices to use instead of the price rule's next ones, while probing; null: the rule's. */
  readonly prices: number[] | null;
  /** This round is the centre revisited with every over-tolerance resource bracketed. */
  readonly evidence: GridEvidence[] | null;
}

const NONE: GridRound = { probe: null, prices: null, evidence: null };

/**
 * The probing step of one round that did not converge by the ordinary rule: `excess` and `x` are
 * this round's (canonical order), `ruleMoved` whether the price rule's next prices differ from
 * `prices` at all.
 */
export function gridRound(
  contract: Contract,
  probe: GridProbe | null,
  prices: readonly number[],
  excess: readonly number[],
  x: ArrayLike<number>,
  ruleMoved: boolean,
): GridRound {
  if (!gridApplies(contract)) return NONE;
  if (probe !== null && probe.probing >= 0) {
    const r = probe.probing;
    if (!brackets(probe.centerExcess[r] as number, excess[r] as number)) return NONE;
    const partners = probe.partners.map((p, s) => (s === r ? Array.from(x) : p));
    const next = nextProbe(probe.center, probe.centerExcess, partners);
    return next === null ? NONE : { probe: next.probe, prices: next.prices, evidence: null };
  }
  if (probe !== null) {
    const same =
      prices.every((p, r) => p === probe.center[r]) && excess.every((e, r) => e === probe.centerExcess[r]);
    return same ? { probe: null, prices: null, evidence: gridEvidence(probe) } : NONE;
  }
  if (ruleMoved) return NONE;
  const start = startProbe(contract, prices, excess);
  return start === null ? NONE : { probe: start.probe, prices: start.prices, evidence: null };
}
