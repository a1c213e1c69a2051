import { describe, expect, it } from "vitest";
import { simulate } from "../src/economics/equilibrium.ts";
import { PRICE_CEILING } from "../src/economics/price-ceiling.ts";
import { solveReference } from "../src/economics/reference-solver.ts";
import { scenarioSchema } from "../src/economics/scenario.ts";

/**
 * From `pnpm fuzz:markets --spread 3 --seed 20261203 --rounds 200` (4 resources, sample seed
 * 24261215, index 804; its per-unit fee, 4e-70, and its cost betas of 3e-92 and less are 0 here).
 * kink-0 (alpha 7.5e11) clears r1 only at p1 = 5.5e12, beyond the price bound 1e12: no certificate
 * can clear it exactly, so "price-ceiling" is the right end. From round 23 on the rule returned
 * the prices it was given (r1 and r2 at the bound, every other resource cleared or free) and every
 * round repeated the last; the stall rule still waited out its 40-round window (41 rounds). It
 * now says "price-ceiling" at the first round the rule holds such prices still.
 */
const scenario = scenarioSchema.parse({
  contract: {
    name: "beyond-the-bound",
    resources: [
      { id: "r0", capacity: 2.3394060888445214 },
      { id: "r1", capacity: 0.00636209132118993 },
      { id: "r2", capacity: 0.005078585678587075 },
      { id: "r3", capacity: 4.927765419998993 },
    ],
    fees: { perUnit: 0, fixed: 0 },
    tolerance: { residual: 1e-10, price: 1e-10 },
    maxRounds: 200_000,
  },
  agents: [
    {
      id: "agent-0",
      valuation: { kind: "power", w: 1.0000000000000022, theta: 1.8392337135467929 },
      cost: { kind: "quadratic", beta: 0, c: 0.2809163949414446 },
      footprint: [1.9999999999999993, 0, 1.3402719239239018, 0.06622163207888547],
    },
    {
      id: "agent-1",
      valuation: { kind: "log", alpha: 2.0000000000000067 },
      cost: { kind: "linear", beta: 0.30000000000000004 },
      footprint: [0.5746624836525704, 0, 0, 0],
    },
    {
      id: "agent-2",
      valuation: { kind: "power", w: 1.0672858786078394, theta: 0.33825037649492623 },
      cost: { kind: "quadratic", beta: 0, c: 0.5521713979316388 },
      footprint: [0, 0.07824657372702405, 0, 0.8388772546295433],
    },
    {
      id: "agent-3",
      valuation: { kind: "power", w: 2.240212688662796, theta: 0.4726649256187263 },
      cost: { kind: "quadratic", beta: 0, c: 0.06141976451949113 },
      footprint: [0.08376962428779448, 0, 0.3551400182366993, 0.19190984596243665],
    },
    {
      id: "agent-4",
      valuation: { kind: "power", w: 2839.9861414393486, theta: 2.3861874688843026 },
      cost: { kind: "quadratic", beta: 0, c: 477.7925218233663 },
      footprint: [49.99999999999922, 825.1467443470996, 0, 1452.248276614417],
    },
    {
      id: "agent-5",
      valuation: { kind: "power", w: 1.0000000000000004, theta: 1.7920323528009663 },
      cost: { kind: "linear", beta: 0.7177073490660799 },
      footprint: [0.9165784040846799, 0.2772360806875157, 0.09091993436370915, 0],
    },
    {
      id: "agent-6",
      valuation: { kind: "log", alpha: 2.297580642482551 },
      cost: { kind: "quadratic", beta: 0, c: 1.8317109895547887 },
      footprint: [0, 0, 0.09000478753884379, -1.526926522104519],
    },
    {
      id: "agent-7",
      valuation: { kind: "log", alpha: 7.7889177718880465 },
      cost: { kind: "quadratic", beta: 0, c: 1.9673522502662861 },
      footprint: [-0.9536611987832327, 0, 0, 0],
    },
    {
      id: "agent-8",
      valuation: { kind: "log", alpha: 3.166763792814199 },
      cost: { kind: "quadratic", beta: 0, c: 0.2964774165954841 },
      footprint: [-0.4109882052739052, 0, 0, 0],
    },
    {
      id: "kink-0",
      valuation: { kind: "log", alpha: 748408213474.5806 },
      cost: { kind: "linear", beta: 0.6830939525133297 },
      footprint: [0.9305329379346434, 0.1370672583367806, 0.05, 0],
    },
  ],
});

describe("a market whose clearing price lies beyond the price bound", () => {
  it("stops with price-ceiling as soon as the rule holds its prices at the bound still", () => {
    expect(solveReference(scenario).prices[1] as number).toBeGreaterThan(PRICE_CEILING);
    const result = simulate(scenario);
    expect(result.status).toBe("stalled");
    expect(result.note).toContain("(price-ceiling)");
    expect(result.rounds).toBeLessThanOrEqual(25);
    expect(result.prices[1]).toBe(PRICE_CEILING);
  });
});
