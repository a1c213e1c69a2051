import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PRICE_CEILING } from "../src/economics/price-ceiling.ts";
import { solveReference } from "../src/economics/reference-solver.ts";
import { WIRE_NUMBER_BOUND } from "../src/wire/protocol-numbers.ts";
import { marketArb } from "./market-arbitrary.ts";

describe("marketArb", () => {
  // `pnpm fuzz:markets --spread 3 --seed 777` draws this market (3 resources, its 762nd): a
  // resource of capacity 0.001 used by a member with footprint 2,000 clears at p* = 8.4e12, so a
  // log agent at its kink there would need alpha = 6.3e12, beyond the number bound a profile may
  // hold, and the generator threw instead of drawing the market.
  it("draws a market whose clearing price lies beyond the price bound, with no agent at its kink there", () => {
    const arb = marketArb({ resources: 3, kinkAgents: 3, spread: 3 });
    const [market] = fc.sample(arb, { seed: 3_000_786, path: "761", numRuns: 1 });
    if (market === undefined) throw new Error("no market drawn");
    expect(Math.max(...solveReference(market).prices)).toBeGreaterThan(PRICE_CEILING);
    for (const agent of market.agents)
      if (agent.valuation.kind === "log")
        expect(agent.valuation.alpha).toBeLessThanOrEqual(WIRE_NUMBER_BOUND);
    expect(market.agents.filter((a) => a.id.startsWith("kink-")).length).toBeGreaterThan(0);
  });
});
