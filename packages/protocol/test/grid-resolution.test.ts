import { describe, expect, it } from "vitest";
import { simulate } from "../src/economics/equilibrium.ts";
import { solveReference } from "../src/economics/reference-solver.ts";
import type { Scenario } from "../src/economics/scenario.ts";
import { LIES, runLyingMarket } from "../src/sim/lying-member.ts";
import { verifyCertificate } from "../src/wire/certificate.ts";
import { contractSchema } from "../src/wire/contract.ts";
import { checkEquilibrium } from "./equilibrium-check.ts";
import { threeResourceGrid, twoResourceGrid } from "./grid-markets.ts";

/**
 * Markets whose prices cannot clear to the tolerance at float64 resolution: a member's footprint
 * is large against a capacity, so one double of a price (or the rounding of its unit price) moves
 * that resource's excess by more than 1e-10 of capacity. The newton rule's step then rounds to
 * nothing and, before the grid bracket, the stall rule ended the epoch approximate (too-slow).
 */
const markets: [string, Scenario][] = [
  ["2 resources", twoResourceGrid],
  ["3 resources", threeResourceGrid],
];

/** Largest relative distance of prices from the reference solver's. */
function priceDistance(prices: readonly number[], reference: readonly number[]): number {
  return Math.max(...prices.map((p, r) => Math.abs(p - (reference[r] as number)) / (reference[r] as number)));
}

describe("a market at the prices' resolution", () => {
  for (const [name, scenario] of markets)
    it(`${name}: certified exact in a few rounds, at the reference solver's equilibrium`, () => {
      const result = simulate(scenario);
      expect(result.status).toBe("converged");
      expect(result.rounds).toBeLessThanOrEqual(16);
      // Above the tolerance (one double of price moves more), within what the reference reaches.
      expect(result.residual).toBeGreaterThan(scenario.contract.tolerance.residual);
      checkEquilibrium(scenario, result);
      const reference = solveReference(scenario);
      expect(reference.status).toBe("exact");
      expect(priceDistance(result.prices, reference.prices)).toBeLessThan(1e-9);
    });

  for (const lie of LIES.filter((l) => l.startsWith("slope")))
    it(`a member lying about its slope (${lie}) gets it certified exact only at the honest equilibrium`, () => {
      const { contract: terms, agents } = threeResourceGrid;
      const contract = contractSchema.parse({ ...terms, minMembers: agents.length });
      const profiles = agents.map(({ id: _id, ...profile }) => profile);
      const r = runLyingMarket(contract, profiles, lie, 1);
      const cert = r.certificate as NonNullable<typeof r.certificate>;
      expect(cert.commit.approximate).toBeUndefined();
      expect(cert.commit.grid?.length).toBeGreaterThan(0);
      expect(verifyCertificate(cert, contract)).toMatchObject({ ok: true, approximate: false });
      expect(r.error).toBeLessThan(1e-9);
    });
});
