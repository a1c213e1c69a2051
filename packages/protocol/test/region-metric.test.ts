import { describe, expect, it } from "vitest";
import type { ReportedDemand } from "../src/economics/demand.ts";
import { simulate } from "../src/economics/equilibrium.ts";
import { initialPriceRuleState, stepPrices } from "../src/economics/price-rule.ts";
import { scenarioSchema } from "../src/economics/scenario.ts";
import { contractSchema } from "../src/wire/contract.ts";
import { asAgentId } from "../src/wire/ids.ts";
import { checkEquilibrium } from "./equilibrium-check.ts";

/**
 * A market drawn by `pnpm fuzz:markets --spread 2` (seed 20261203, 3 resources, sample seed
 * 23261212, index 121): r0's clearing price is about 2.4e-4 (one member with a footprint of 184 on
 * it), r2's about 240. In one box of one size for all resources, r0's price crawled toward its
 * clearing price by a factor 0.7 every two rounds while r2 sat at the box's edge; the stall rule
 * stopped it after 41 rounds, 16% off capacity.
 */
const sixDecadesApart = scenarioSchema.parse({
  contract: {
    name: "property",
    resources: [
      { id: "r0", capacity: 29.999999999999943 },
      { id: "r1", capacity: 3.248103993899089 },
      { id: "r2", capacity: 2.027818363870559 },
    ],
    fees: { perUnit: 0.00011221429370430936, fixed: 0 },
    priceRule: { kind: "newton" },
    tolerance: { residual: 1e-10, price: 1e-10 },
    maxRounds: 200_000,
  },
  agents: [
    [
      { kind: "log", alpha: 2.0000000000000027 },
      { kind: "linear", beta: 0.3000000000000004 },
      [0.10783625361329625, 0, 0.879944508764653],
    ],
    [
      { kind: "power", w: 2.0003201515215925, theta: 0.30000000000000077 },
      { kind: "linear", beta: 1.5266588227433135 },
      [0, 0, 0.006550066579610625],
    ],
    [
      { kind: "quadratic", a: 6.609721207861092, b: 1.9999999999999971 },
      { kind: "quadratic", beta: 2.9535032404379505e-11, c: 0.39649553405564386 },
      [0.2800509010193442, 0, 0],
    ],
    [
      { kind: "power", w: 1.7619603838445108, theta: 0.45083113439792105 },
      { kind: "linear", beta: 1.1887017561657727 },
      [0, 1.9999999999999982, 1.2044136236611631],
    ],
    [
      { kind: "power", w: 0.0100000000000001, theta: 0.7375215875445398 },
      { kind: "quadratic", beta: 0.030000000000000155, c: 0.00406509594830083 },
      [184.30866194696222, 0, 0],
    ],
    [
      { kind: "quadratic", a: 4.3299812697187425, b: 1.9999999999999976 },
      { kind: "quadratic", beta: 6.545694305840593e-297, c: 0.05000000000000007 },
      [0.6338922092362986, 0, 0.9936910687361656],
    ],
    [
      { kind: "power", w: 2.743815315277538, theta: 1.8302483836760508 },
      { kind: "linear", beta: 0.623672089906363 },
      [0, 0, 1.2713090765502035],
    ],
    [
      { kind: "log", alpha: 6.49921375737551 },
      { kind: "linear", beta: 0.9808234783676453 },
      [0.09077402485767808, 0, 1.1668181629185337],
    ],
    [
      { kind: "quadratic", a: 19.99999999999996, b: 0.2000000000000002 },
      { kind: "linear", beta: 0.30000000000000093 },
      [0.4491755334200288, 0, 0.05],
    ],
    [
      { kind: "power", w: 2.4118741835008835, theta: 1.251462718245881 },
      { kind: "linear", beta: 0.30000000000000054 },
      [0.327533764668552, 0, 0.1856423202024503],
    ],
    [
      { kind: "power", w: 3.6811610029077064, theta: 0.45209215934541264 },
      { kind: "quadratic", beta: 7.25184851886776e-155, c: 0.39116017929952057 },
      [-0.007154019839379461, 0.002062953944028405, 0],
    ],
  ].map(([valuation, cost, footprint], i) => ({ id: `agent-${i}`, valuation, cost, footprint })),
});

describe("the newton rule's region in curvature units (region-metric.ts)", () => {
  it("gives each resource room inversely to sqrt(H_rr), keeping about the geometric mean of the first box", () => {
    const k = contractSchema.parse({
      name: "two scales",
      resources: [
        { id: "r0", capacity: 10 },
        { id: "r1", capacity: 10 },
      ],
      fees: { perUnit: 0.5, fixed: 0 },
      priceRule: { kind: "newton" },
      initialPrices: [1, 1],
    });
    // H = diag(1e4, 1), so D = (100, 1). The one-size first box is max(p, market scale) = 1 on
    // both (the scale, 16 times the median x/|s| = 0.002, is below the price); in curvature units
    // r0 gets a hundredth of r1's room, with their geometric mean still about 1 (lg's mean of
    // lg 100 = 6.5625 and lg 1 = 0 is 2^3 * 1.28125 = 10.25, so 0.1025 and 10.25).
    const demands: ReportedDemand[] = [
      { agent: asAgentId("a"), x: 20, slope: -1e4, footprint: [1, 0] },
      { agent: asAgentId("b"), x: 20, slope: -1, footprint: [0, 1] },
    ];
    const first = stepPrices(k, initialPriceRuleState(k), [1, 1], demands);
    const radius = first.state.newton?.radius as readonly number[];
    expect((radius[1] as number) / (radius[0] as number)).toBeCloseTo(100, 9);
    expect(radius).toEqual([0.1025, 10.25]);
    expect(first.state.newton?.metric).toEqual([100, 1]);
  });

  it("clears a market whose prices lie six decades apart, agreeing with the reference solver", () => {
    const result = simulate(sixDecadesApart);
    checkEquilibrium(sixDecadesApart, result);
    expect(result.rounds).toBeLessThanOrEqual(30);
    expect(result.prices[0] as number).toBeLessThan(1e-3);
    expect(result.prices[2] as number).toBeGreaterThan(100);
  });
});
