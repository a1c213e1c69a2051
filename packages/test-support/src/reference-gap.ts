import {
  type AgentProfile,
  type Contract,
  type ReferenceSolution,
  scenarioSchema,
  solveReference,
} from "@walras/protocol";

/** How far a certified outcome is from the reference solver's equilibrium of the same market. */
export interface ReferenceGap {
  readonly status: ReferenceSolution["status"];
  /** The smallest reference price: a test of pricing wants it above 0 (capacity binds). */
  readonly lowestPrice: number;
  /** max_r |p_r − p*_r| / p*_r (p* floored at 1e-9). */
  readonly price: number;
  /** max_i |x_i − x*_i| / max(1, x*_i); infinite when an agent is missing from either side. */
  readonly allocation: number;
  /** The outcome allocates to exactly these agents. */
  readonly sameMembers: boolean;
}

/**
 * Solves the market of `contract` (the terms in force) and `agents` (their peer ids and bids) with
 * the reference solver and measures a certificate's prices and allocations against it.
 */
export function referenceGap(
  contract: Contract,
  agents: readonly { readonly id: string; readonly profile: AgentProfile }[],
  commit: {
    readonly prices: readonly number[];
    readonly allocations: readonly { readonly agent: string; readonly x: number }[];
  },
): ReferenceGap {
  const ref = solveReference(
    scenarioSchema.parse({ contract, agents: agents.map((a) => ({ id: a.id, ...a.profile })) }),
  );
  const price = priceGap(commit.prices, ref.prices);
  // Over the reference's agents and the certificate's alike: an agent missing from either side
  // (or no allocations at all, where max() over nothing would be −Infinity) is an infinite gap.
  const gapOf = (x: number, xRef: number) => Math.abs(x - xRef) / Math.max(1, xRef);
  const certified = (agent: string) => commit.allocations.find((a) => a.agent === agent)?.x ?? Number.NaN;
  const referenced = (agent: string) => ref.allocations.find((r) => r.agent === agent)?.x ?? Number.NaN;
  const gaps = [
    ...ref.allocations.map((r) => gapOf(certified(r.agent), r.x)),
    ...commit.allocations.map((a) => gapOf(a.x, referenced(a.agent))),
  ];
  const allocation = gaps.length === 0 ? Number.NaN : Math.max(...gaps);
  const ids = (list: readonly string[]) => JSON.stringify([...list].sort());
  return {
    status: ref.status,
    lowestPrice: Math.min(...ref.prices),
    price,
    allocation: Number.isNaN(allocation) ? Number.POSITIVE_INFINITY : allocation,
    sameMembers: ids(commit.allocations.map((a) => a.agent)) === ids(agents.map((a) => a.id)),
  };
}

/**
 * max_r |p_r − p*_r| / p*_r (p* floored at 1e-9); infinite when a price is missing, since NaN
 * compares false with every bound.
 */
export function priceGap(prices: readonly number[], reference: readonly number[]): number {
  const gap = Math.max(
    ...reference.map((q, r) => Math.abs((prices[r] ?? Number.NaN) - q) / Math.max(1e-9, q)),
  );
  return Number.isNaN(gap) ? Number.POSITIVE_INFINITY : gap;
}
