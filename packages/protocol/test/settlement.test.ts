import { describe, expect, it } from "vitest";
import { aggregateSupply, measureResidual } from "../src/economics/residual.ts";
import { settledAllocations } from "../src/economics/settlement.ts";
import { contractSchema } from "../src/wire/contract.ts";

const contract = contractSchema.parse({
  name: "settle",
  resources: [
    { id: "a", capacity: 10 },
    { id: "b", capacity: 4 },
  ],
  fees: { perUnit: 0, fixed: 0 },
});
const entry = (agent: string, x: number, footprint: number[]) => ({ agent, x, footprint });

describe("settledAllocations", () => {
  const over = {
    prices: [1e12, 3],
    // S = (12 + 2, 6 + 4 - 1) = (14, 9): a over by 14/10, b by 9/4.
    demands: [entry("p", 12, [1, 0.5]), entry("q", 2, [1, 2]), entry("s", 1, [0, -1])],
    residual: 0.4,
  };

  it("an exact equilibrium commits the round's demands as they are", () => {
    expect(settledAllocations(contract, over, false)).toEqual({ allocations: over.demands, residual: 0.4 });
  });

  it("an approximate round that fits commits its demands as they are", () => {
    const fits = { ...over, demands: [entry("p", 5, [1, 0.5]), entry("q", 0.5, [1, 2])] };
    expect(settledAllocations(contract, fits, true)).toEqual({ allocations: fits.demands, residual: 0.4 });
  });

  it("an approximate round over capacity is rationed proportionally until it fits, supplier included", () => {
    const { allocations, residual } = settledAllocations(contract, over, true);
    const factor = Math.min(10 / 14, 4 / 9);
    allocations.forEach((a, i) => {
      expect(a.agent).toBe(over.demands[i]?.agent);
      expect(a.footprint).toEqual(over.demands[i]?.footprint);
      expect(a.x).toBeCloseTo((over.demands[i]?.x as number) * factor, 14);
    });
    const supply = aggregateSupply(2, allocations);
    expect(supply[0]).toBeLessThanOrEqual(10 * (1 + 1e-12));
    expect(supply[1]).toBeLessThanOrEqual(4 * (1 + 1e-12));
    // The tighter resource is exactly full; the commit's residual is the rationed allocation's.
    expect(supply[1]).toBeCloseTo(4, 12);
    expect(residual).toBe(measureResidual(contract, over.prices, allocations));
  });

  it("an approximate commit carries a residual within the wire's bound", () => {
    // A supplier's output over a tiny capacity: S = -1e12 against m = 1e-6, at a positive price.
    const tiny = contractSchema.parse({
      name: "tiny",
      resources: [{ id: "a", capacity: 1e-6 }],
      fees: { perUnit: 0, fixed: 0 },
    });
    const demands = [entry("s", 1e6, [-1e6])];
    const round = { prices: [1], demands, residual: measureResidual(tiny, [1], demands) };
    expect(round.residual).toBeGreaterThan(1e17);
    expect(settledAllocations(tiny, round, true)).toEqual({ allocations: demands, residual: 1e12 });
    // Rationed, too: a consumer over capacity on one resource, the supplier on the other.
    const two = contractSchema.parse({
      name: "two",
      resources: [
        { id: "a", capacity: 1 },
        { id: "b", capacity: 1e-6 },
      ],
      fees: { perUnit: 0, fixed: 0 },
    });
    const over = [entry("c", 2, [1, 0]), entry("s", 1e6, [0, -1e6])];
    const rationed = settledAllocations(two, { prices: [1, 1], demands: over, residual: 1 }, true);
    expect(rationed.allocations[0]?.x).toBe(1);
    expect(rationed.residual).toBe(1e12);
  });
});
