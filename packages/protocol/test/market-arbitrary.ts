import fc from "fast-check";
import type { ScenarioAgent } from "../src/economics/agent.ts";
import { solveReference } from "../src/economics/reference-solver.ts";
import { scaledProfile } from "../src/economics/scaled-profile.ts";
import { type Scenario, scenarioSchema } from "../src/economics/scenario.ts";
import { WIRE_NUMBER_BOUND } from "../src/wire/protocol-numbers.ts";

/**
 * Random markets with g = 0 (a unique equilibrium allocation), shared by the property tests and
 * the long run (`pnpm fuzz:markets`). Consumers use every resource with a non-negative footprint;
 * suppliers provide one resource (negative entry) and always carry quadratic cost c > 0, so their
 * best response is finite at every price.
 *
 * Degenerate markets are deliberately common: a footprint entry is 0 a third of the time, so with
 * 3-4 resources and 2-3 consumers there are often fewer responsive agents than priced resources
 * (the aggregate Jacobian is then rank-deficient near the equilibrium); and `kinkAgents` adds
 * agents placed exactly at their participation kink at the equilibrium (x* = 0, reporting slope 0
 * there and a non-zero slope just below p*).
 *
 * wellConditioned (for the gradient rule) drops power valuations and keeps tau >= 0.3. The derived
 * step eta = 1/L takes L from the slopes at the first prices; a power valuation's slope grows
 * without bound as its unit price falls to 0, so the step can be 1e4 times too small for the
 * slopes at p*, and the paper's rule then needs 1e5+ rounds. That is a property of the rule
 * (reported by the bench), not something a test of correctness should wait for.
 */
export interface MarketOptions {
  readonly resources: number;
  readonly wellConditioned?: boolean;
  /** Up to this many agents sitting exactly at their participation kink at p* (default 0). */
  readonly kinkAgents?: number;
  /**
   * Decades of scale (default 0): each agent's valuation and cost are multiplied by 10^u and its
   * footprint by 10^v, each resource's capacity by 10^w, with u, v, w uniform in [-spread, spread].
   * Real markets mix households and factories, litres and megawatts; a rule tuned on markets whose
   * members are all alike can crawl or stall on them.
   */
  readonly spread?: number;
}

/** Per agent (money, units) and per resource a capacity factor; null without a spread. */
interface Scales {
  readonly scales: readonly (readonly [number, number])[] | null;
  readonly capacityScales: readonly number[] | null;
}

/** A factor 10^u, u uniform in [-decades, decades]; exactly 1 when decades is 0. */
function decades(spread: number): fc.Arbitrary<number> {
  return spread === 0
    ? fc.constant(1)
    : fc.double({ min: -spread, max: spread, noNaN: true }).map((u) => 10 ** u);
}

/**
 * A footprint entry: 0 (the agent does not use the resource) or a real amount. Left out: values
 * like 1e-300, which fast-check loves and no market has; with them a resource is "used" by nobody
 * in any measurable way, and its price is a matter of floating-point noise.
 */
function footprintEntry(max: number): fc.Arbitrary<number> {
  return fc.oneof(fc.constant(0), fc.double({ min: 0.05, max, noNaN: true }));
}

export function marketArb(options: MarketOptions): fc.Arbitrary<Scenario> {
  const R = options.resources;
  const families = [
    fc.record({ kind: fc.constant("log" as const), alpha: fc.double({ min: 2, max: 20, noNaN: true }) }),
    fc.record({
      kind: fc.constant("quadratic" as const),
      a: fc.double({ min: 2, max: 20, noNaN: true }),
      b: fc.double({ min: 0.2, max: 2, noNaN: true }),
    }),
    fc.record({
      kind: fc.constant("power" as const),
      w: fc.double({ min: 1, max: 6, noNaN: true }),
      theta: fc.oneof(
        fc.double({ min: 0.3, max: 0.9, noNaN: true }),
        fc.double({ min: 1.2, max: 2.5, noNaN: true }),
      ),
    }),
  ] as const;
  const valuation = options.wellConditioned ? fc.oneof(families[0], families[1]) : fc.oneof(...families);
  const consumer = fc.record({
    valuation,
    cost: fc.oneof(
      fc.record({ kind: fc.constant("linear" as const), beta: fc.double({ min: 0.3, max: 5, noNaN: true }) }),
      fc.record({
        kind: fc.constant("quadratic" as const),
        beta: fc.double({ min: 0, max: 3, noNaN: true }),
        c: fc.double({ min: 0.05, max: 2, noNaN: true }),
      }),
    ),
    footprint: fc
      .array(footprintEntry(2), { minLength: R, maxLength: R })
      .filter((a) => a.some((v) => v >= 0.2)),
  });
  const supplier = fc.record({
    valuation,
    cost: fc.record({
      kind: fc.constant("quadratic" as const),
      beta: fc.double({ min: 0, max: 3, noNaN: true }),
      c: fc.double({ min: 0.2, max: 3, noNaN: true }),
    }),
    footprint: fc
      .tuple(
        fc.integer({ min: 0, max: R - 1 }),
        fc.array(footprintEntry(1), { minLength: R, maxLength: R }),
        fc.double({ min: 0.3, max: 2, noNaN: true }),
      )
      .map(([j, a, s]) => a.map((v, r) => (r === j ? -s : v))),
  });
  const kink = fc.record({
    beta: fc.double({ min: 0.1, max: 3, noNaN: true }),
    footprint: fc
      .array(footprintEntry(2), { minLength: R, maxLength: R })
      .filter((a) => a.some((v) => v >= 0.2)),
  });
  return (
    fc
      .record({
        consumers: fc.array(consumer, { minLength: 2, maxLength: 10 }),
        suppliers: fc.array(supplier, { maxLength: 3 }),
        kinks: fc.array(kink, { maxLength: options.kinkAgents ?? 0 }),
        capacities: fc.array(fc.double({ min: 1, max: 30, noNaN: true }), { minLength: R, maxLength: R }),
        tau: fc.double({ min: options.wellConditioned ? 0.3 : 0, max: 1.5, noNaN: true }),
      })
      // The scales are drawn after the rest, and only with a spread, so that spread 0 draws the very
      // markets it drew before the option existed (pinned seeds stay pinned).
      .chain((drawn) =>
        (options.spread ?? 0) > 0
          ? fc
              .record({
                scales: fc.array(fc.tuple(decades(options.spread ?? 0), decades(options.spread ?? 0)), {
                  minLength: drawn.consumers.length + drawn.suppliers.length,
                  maxLength: drawn.consumers.length + drawn.suppliers.length,
                }),
                capacityScales: fc.array(decades(options.spread ?? 0), { minLength: R, maxLength: R }),
              })
              .map((s) => ({ ...drawn, ...s }))
          : fc.constant<typeof drawn & Scales>({ ...drawn, scales: null, capacityScales: null }),
      )
      .map(({ consumers, suppliers, scales, capacityScales, kinks, capacities, tau }) => {
        const agents: ScenarioAgent[] = [...consumers, ...suppliers].map((a, i) => {
          const agent = { id: `agent-${i}`, ...a };
          const [money, units] = scales?.[i] ?? [1, 1];
          return scales === null ? agent : scaledProfile(agent, money, units);
        });
        const contract = {
          name: "property",
          resources: capacities.map((m, r) => ({ id: `r${r}`, capacity: m * (capacityScales?.[r] ?? 1) })),
          fees: { perUnit: tau, fixed: 0 },
          // Tight enough that the engine's prices are within 1e-6 of the exact ones.
          tolerance: { residual: 1e-10, price: 1e-10 },
          maxRounds: 200_000,
        };
        const base = scenarioSchema.parse({ contract, agents });
        if (kinks.length === 0) return base;
        // log alpha ln(1+x), linear beta: x = alpha / (beta + q) - 1, which is 0 exactly when
        // alpha = beta + q*, q* = tau + a.p* the agent's unit price at the equilibrium.
        const p = solveReference(base).prices;
        const atKink: ScenarioAgent[] = kinks.flatMap((k, i) => {
          const alpha = k.footprint.reduce((s, a, r) => s + a * (p[r] as number), tau) + k.beta;
          // With a spread, p* can lie beyond the protocol's price bound (the market then settles
          // approximate, protocol §8), and no profile within the number bound has its kink there.
          if (alpha > WIRE_NUMBER_BOUND) return [];
          return [
            {
              id: `kink-${i}`,
              valuation: { kind: "log", alpha },
              cost: { kind: "linear", beta: k.beta },
              footprint: k.footprint,
            },
          ];
        });
        return scenarioSchema.parse({ contract, agents: [...agents, ...atKink] });
      })
  );
}
