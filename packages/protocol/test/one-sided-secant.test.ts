import { describe, expect, it } from "vitest";
import { simulate } from "../src/economics/equilibrium.ts";
import { scenarioSchema } from "../src/economics/scenario.ts";
import { checkEquilibrium } from "./equilibrium-check.ts";

/**
 * From `pnpm fuzz:markets --spread 3 --seed 20261203` (3 resources, index 106 of its batch; its
 * per-unit fee, 4e-32, is 0 here):
 * agent-3 has a footprint of 1,630 on r0 and an activity cap of 0.93, so it goes from out of the
 * market to its cap within 1e-6 of r0 price. The rule saw it only at the two ends: out (x = 0) or
 * at its cap. Its slope and its exit slope were checked against secants to a round where it was
 * out, far beyond the price where its demand reaches 0, which understate the slope by orders of
 * magnitude; the rule replaced its true slope by them, so the model did not see it enter, every
 * step to r0 price 0 flooded r0 (reject, shrink by 4, accept, double), and r1 could not move in
 * the shrunk region: the stall rule stopped the market after 42 rounds with residual 1.9.
 */
const scenario = scenarioSchema.parse({
  contract: {
    name: "needle",
    resources: [
      { id: "r0", capacity: 1.5116015115136603 },
      { id: "r1", capacity: 1.0000000000000029 },
      { id: "r2", capacity: 2.1308654004234397 },
    ],
    fees: { perUnit: 0, fixed: 0 },
    tolerance: { residual: 1e-10, price: 1e-10 },
    maxRounds: 200_000,
  },
  agents: [
    {
      id: "agent-0",
      valuation: { kind: "quadratic", a: 3.2436450220083, b: 1.7853113724511764 },
      cost: { kind: "linear", beta: 2.934550105412154 },
      footprint: [0, 1.4343839582661622, 0],
    },
    {
      id: "agent-1",
      valuation: { kind: "power", w: 1898.2183374696733, theta: 0.4261148463292571 },
      cost: { kind: "linear", beta: 2507.826918057968 },
      footprint: [0, 0.4976124461366387, 0.42530062406381114],
    },
    {
      id: "agent-2",
      valuation: { kind: "quadratic", a: 5.550050865372896, b: 0.8002551761558773 },
      cost: { kind: "quadratic", beta: 2e-323, c: 1.9999999999999996 },
      footprint: [0, 0.797045450635894, 0],
    },
    {
      id: "agent-3",
      valuation: { kind: "quadratic", a: 0.006148996338932263, b: 0.00020000000000000305 },
      cost: { kind: "linear", beta: 0.005000000000000064 },
      footprint: [1625.4087616602476, 0, 327.6782430573165],
    },
    {
      id: "agent-4",
      valuation: { kind: "log", alpha: 4.965332138377285 },
      cost: { kind: "quadratic", beta: 2.999999999999993, c: 0.3986420876395002 },
      footprint: [0.0013265289738246862, 0.0002915228850020168, 0.00013147156311280107],
    },
    {
      id: "agent-5",
      valuation: { kind: "log", alpha: 12.751298000823033 },
      cost: { kind: "quadratic", beta: 4.719288875256218e-40, c: 0.11437677487461252 },
      footprint: [0.05000000000000002, 0.4022567529196733, 0],
    },
    {
      id: "agent-6",
      valuation: { kind: "power", w: 1.0000000000000013, theta: 0.4505340602689495 },
      cost: { kind: "quadratic", beta: 1.7665050215773002e-147, c: 0.7636260297081752 },
      footprint: [0.31771090653743655, 0, 0],
    },
    {
      id: "agent-7",
      valuation: { kind: "power", w: 5.999999999999995, theta: 0.8153046104046809 },
      cost: { kind: "linear", beta: 1.3519546156495648 },
      footprint: [0, 0, 0.24407050916697579],
    },
    {
      id: "agent-8",
      valuation: { kind: "log", alpha: 19.999999999999957 },
      cost: { kind: "linear", beta: 0.6911676437614915 },
      footprint: [0.00005000000000000085, 0.0015545018971419569, 0.0020000000000000295],
    },
    {
      id: "kink-0",
      valuation: { kind: "log", alpha: 4.316587970056901 },
      cost: { kind: "linear", beta: 0.4643286183896844 },
      footprint: [0.786084481319228, 0.3478755057158351, 0],
    },
  ],
});

describe("a steep member seen only out of the market or at its cap", () => {
  it("clears exactly: a secant to a round where it was out bounds its slope only from one side", () => {
    const result = simulate(scenario);
    checkEquilibrium(scenario, result);
    expect(result.status).toBe("converged");
    expect(result.rounds).toBeLessThanOrEqual(15);
  });
});
