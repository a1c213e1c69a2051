import { describe, expect, it } from "vitest";
import { adjacentPrice, bracketError, type GridProbe, gridRound } from "../src/economics/grid-bracket.ts";
import { type Contract, contractSchema } from "../src/wire/contract.ts";

/** Two resources of capacity 1; tolerance 1e-10. */
function market(fixed = 0): Contract {
  return contractSchema.parse({
    name: "grid",
    resources: [
      { id: "r0", capacity: 1 },
      { id: "r1", capacity: 1 },
    ],
    fees: { perUnit: 0, fixed },
    tolerance: { residual: 1e-10, price: 1e-10 },
  });
}

const center = [2, 3];
/** r0 over-used by 5e-10 (beyond the tolerance), r1 within it. */
const centerExcess = [5e-10, -2e-11];
const centerX = [0.5, 0.5];

/** From the fixed point to the centre revisited, as the rule runs it round by round. */
function probeOnce(
  contract: Contract,
  probeExcess: number,
): { start: GridProbe | null; after: ReturnType<typeof gridRound> } {
  const start = gridRound(contract, null, center, centerExcess, centerX, false);
  const probe = start.probe;
  if (probe === null) return { start: null, after: start };
  return {
    start: probe,
    after: gridRound(contract, probe, start.prices ?? [], [probeExcess, 0], [0.49, 0.51], true),
  };
}

describe("the grid bracket", () => {
  it("steps prices by one double, up or toward 0", () => {
    expect(adjacentPrice(1, true)).toBe(1 + 2 ** -52);
    expect(adjacentPrice(1, false)).toBe(1 - 2 ** -53);
    expect(adjacentPrice(0, true)).toBe(Number.MIN_VALUE);
    expect(adjacentPrice(0, false)).toBe(0);
  });

  it("probes an over-used resource one double up from a fixed point, and only that one", () => {
    const start = gridRound(market(), null, center, centerExcess, centerX, false);
    expect(start.prices).toEqual([adjacentPrice(2, true), 3]);
    expect(start.probe?.partners).toEqual([[], null]);
    expect(gridRound(market(), null, center, centerExcess, centerX, true)).toMatchObject({
      probe: null,
      prices: null,
    });
  });

  it("converges at the centre revisited once the probe over-shoots, with the probe's x as evidence", () => {
    const { after } = probeOnce(market(), -3e-10);
    expect(after.prices).toEqual(center);
    const revisit = gridRound(market(), after.probe, center, centerExcess, centerX, false);
    expect(revisit.evidence).toEqual([{ resource: 0, x: [0.49, 0.51] }]);
    const changed = gridRound(market(), after.probe, center, [4e-10, -2e-11], centerX, false);
    expect(changed.evidence).toBeNull();
  });

  it("brackets nothing where one double does not cross the excess's zero (a slope lie's fixed point)", () => {
    // A claimed slope steep enough rounds the rule's step to nothing far from equilibrium; the
    // probe one double on still over-uses, so the rule goes on from it and nothing converges.
    const { after } = probeOnce(market(), 4.9e-10);
    expect(after).toMatchObject({ probe: null, prices: null, evidence: null });
  });

  it("does not probe under a fixed fee, whose demand jumps are no resolution of the prices", () => {
    expect(gridRound(market(1), null, center, centerExcess, centerX, false).prices).toBeNull();
  });

  it("lets a verifier check the bracket from the commit alone", () => {
    // r0 over-used by 5e-10 of capacity, r1 under-used within the tolerance.
    const commit = (x1: number) => [
      { x: 1 + 5e-10, footprint: [1, 0] },
      { x: x1, footprint: [0, 1] },
    ];
    const bracket = [{ resource: 0, x: [1 - 3e-10, 1] }];
    expect(bracketError(market(), center, commit(1 - 2e-11), bracket)).toBeNull();
    expect(bracketError(market(), center, commit(1 + 5e-10), bracket)).toMatch(
      /resource 1 exceeds the tolerance/,
    );
    expect(bracketError(market(), center, commit(1 - 2e-11), [{ resource: 0, x: [1 + 1e-10, 1] }])).toMatch(
      /does not bracket/,
    );
    expect(bracketError(market(), center, commit(1 - 2e-11), [])).toMatch(/resource 0 exceeds the tolerance/);
    expect(
      bracketError(market(), center, commit(1 - 2e-11), [...bracket, { resource: 1, x: [1, 1] }]),
    ).toMatch(/resource 1 is within the tolerance/);
    expect(bracketError(market(1), center, commit(1 - 2e-11), bracket)).toMatch(/fixed fee/);
  });
});
