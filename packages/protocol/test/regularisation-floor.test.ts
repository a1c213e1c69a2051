import { describe, expect, it } from "vitest";
import { simulate } from "../src/economics/equilibrium.ts";
import { solveReference } from "../src/economics/reference-solver.ts";
import { scenarioSchema } from "../src/economics/scenario.ts";
import { checkEquilibrium } from "./equilibrium-check.ts";

/**
 * From `pnpm fuzz:markets --spread 3 --seed 20261203 --rounds 200` (4 resources, sample seed
 * 24261215, index 439; its per-unit fee, 3e-80, and its cost betas of 1e-212 and less are 0 here).
 * r3 (capacity 0.001) is priced by agent-0 alone, an isoelastic member (power, theta 2.49: demand
 * ~ q^-0.4) that clears it near p3 = 4e6, where its curvature a^2 |s| is ~1e-9; r0 is priced by
 * agent-5, footprint 600, curvature ~4e5. The model's regularisation floor, 1e-13 of the largest
 * diagonal (4e-8), swamped r3's: every step on r3 came out ~1/12 of Newton's and the price climbed
 * by ~4% a round until the stall rule stopped the market after 43 rounds at residual 0.71. Each
 * resource now takes a floor on its own scale.
 */
const scenario = scenarioSchema.parse({
  contract: {
    name: "tail",
    resources: [
      { id: "r0", capacity: 11.002828361986571 },
      { id: "r1", capacity: 1.2708049072653431 },
      { id: "r2", capacity: 2.9570494992828795 },
      { id: "r3", capacity: 0.001000000000000002 },
    ],
    fees: { perUnit: 0, fixed: 0 },
    tolerance: { residual: 1e-10, price: 1e-10 },
    maxRounds: 200_000,
  },
  agents: [
    {
      id: "agent-0",
      valuation: { kind: "power", w: 5.320318000091576, theta: 2.4865215794144415 },
      cost: { kind: "linear", beta: 0.30663575958534967 },
      footprint: [0, 0.9239201262378882, 0, 0.08685860441231841],
    },
    {
      id: "agent-1",
      valuation: { kind: "power", w: 3.979951426794736, theta: 0.48829756294045873 },
      cost: { kind: "linear", beta: 4.4378431756820085 },
      footprint: [0.652437104409121, 0, 0.5106220187028369, 0],
    },
    {
      id: "agent-2",
      valuation: { kind: "power", w: 1.643721136540704, theta: 0.36973397812066133 },
      cost: { kind: "linear", beta: 0.6273337192772217 },
      footprint: [0, 0.1044493978018139, 0.32341683193357507, 0.06954579203475883],
    },
    {
      id: "agent-3",
      valuation: { kind: "power", w: 3.1244051501977324, theta: 1.2851688899725633 },
      cost: { kind: "linear", beta: 0.6811955425392172 },
      footprint: [0.4344235168328492, 0.09641441250907187, 0.2005546466817812, 0],
    },
    {
      id: "agent-4",
      valuation: { kind: "quadratic", a: 2.668949620800407, b: 0.749029942635239 },
      cost: { kind: "linear", beta: 0.5708018157442359 },
      footprint: [0, 0.08197285168547633, 0.2234460006304767, 0.17430350725589952],
    },
    {
      id: "agent-5",
      valuation: { kind: "quadratic", a: 2.873488708476955, b: 0.4949907422974855 },
      cost: { kind: "quadratic", beta: 0, c: 0.40897246821119904 },
      footprint: [599.8048232964545, 0, 234.66588647174598, 0],
    },
    {
      id: "agent-6",
      valuation: { kind: "quadratic", a: 5.958427912860671, b: 0.23193148612966596 },
      cost: { kind: "quadratic", beta: 0, c: 1.617484310205221 },
      footprint: [0.45851721996236305, 0, 0.24920189252691452, 0],
    },
  ],
});

describe("a resource priced by an isoelastic member beside one priced by a large member", () => {
  it("clears exactly: the model's regularisation floor is each resource's own", () => {
    const result = simulate(scenario);
    checkEquilibrium(scenario, result);
    expect(result.status).toBe("converged");
    expect(result.rounds).toBeLessThanOrEqual(25);
    const reference = solveReference(scenario).prices[3] as number;
    expect(reference).toBeGreaterThan(1e6);
    expect(Math.abs((result.prices[3] as number) - reference)).toBeLessThan(1e-6 * reference);
  });
});
