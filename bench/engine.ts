/**
 * Engine bench: rounds and wall time of simulate() to a relative residual of 1e-6, newton vs the
 * paper's gradient rule with its derived step (eta = 1/L from the first round's slopes), on the
 * paper's agents (alpha ~ U(5, 20), beta ~ U(0.5, 5), footprint 1, tau = 0.5, g = 0) drawn by
 * paperScenario (the seeded xoshiro128** of src/prng.ts).
 *
 * Capacity m = n: at the paper's m = 100 the resource does not bind beyond n of about 30; with
 * m = n (one unit per agent against an unconstrained mean demand of about 3.7) it binds at every n
 * and the clearing price is well above 0. Both rules stop on the same test: residual <= 1e-6 and
 * price move <= 1e-6 (tolerance.price relaxed from its 1e-9 default so that the gradient rule is
 * judged on the residual, as the paper does).
 */
import {
  LIES,
  lyingMarket,
  NEWTON_MODELS,
  type NewtonModel,
  type PriceRule,
  paperScenario,
  runLyingMarket,
  type Scenario,
  type SimulationResult,
  scenarioSchema,
  simulate,
} from "@walras/protocol";
import fc from "fast-check";
import { marketArb } from "../packages/protocol/test/market-arbitrary.ts";
import type { BenchSection } from "./main.ts";

const SIZES = [10, 100, 1_000, 10_000, 100_000];
const GRADIENT_CAP = 10_000;
/** Above this many agents the gradient cap is lowered to keep the bench short; shown as ">cap". */
const GRADIENT_WORK_CAP = 2e8;
const SEED = 2510_05504;

function scenario(n: number, g: number): Scenario {
  const input = paperScenario({ agents: n, capacity: n, seed: SEED, tau: 0.5, g });
  return scenarioSchema.parse({
    ...input,
    contract: { ...input.contract, tolerance: { residual: 1e-6, price: 1e-6 } },
  });
}

function timed(s: Scenario, rule: PriceRule, maxRounds: number): { result: SimulationResult; ms: number } {
  const start = performance.now();
  const result = simulate(s, { rule, maxRounds });
  return { result, ms: performance.now() - start };
}

function rounds(r: SimulationResult, cap: number): string {
  if (r.status === "stalled") return `${r.rounds} (stalled)`;
  return r.status === "round-limit" ? `>${cap}` : String(r.rounds);
}

function run(): void {
  for (const g of [0, 1]) {
    console.log(
      `g = ${g}${g > 0 ? " (demand jumps at the participation margin: approximate equilibrium only)" : ""}`,
    );
    console.log(
      "| n | m | newton rounds | newton ms | newton (sums model) rounds | sums ms | gradient rounds | gradient ms | rounds ratio | p* newton | p* sums | p* gradient |",
    );
    console.log("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (const n of SIZES) {
      const s = scenario(n, g);
      const newton = timed(s, { kind: "newton" }, 1_000);
      const sums = timed(s, { kind: "newton", model: "sums" }, 1_000);
      const cap = Math.min(GRADIENT_CAP, Math.max(100, Math.floor(GRADIENT_WORK_CAP / n)));
      const gradient = timed(s, { kind: "gradient" }, cap);
      const ratio =
        gradient.result.status === "round-limit" || gradient.result.status === "stalled"
          ? `>${(cap / newton.result.rounds).toFixed(0)}x`
          : `${(gradient.result.rounds / newton.result.rounds).toFixed(1)}x`;
      const price = (r: SimulationResult) => `${r.prices[0]?.toPrecision(10)} (${r.status})`;
      console.log(
        `| ${n} | ${n} | ${rounds(newton.result, 1_000)} | ${newton.ms.toFixed(1)} | ${rounds(sums.result, 1_000)} | ${sums.ms.toFixed(1)} | ${rounds(gradient.result, cap)} | ${gradient.ms.toFixed(1)} | ${ratio} | ${price(newton.result)} | ${price(sums.result)} | ${price(gradient.result)} |`,
      );
    }
    console.log("");
  }
}

/**
 * One member of four lies (sim/lying-member.ts) on a simulated network of real agent machines:
 * rounds until every node holds a certificate, and how far it is from the honest equilibrium.
 */
function lyingMembers(): void {
  console.log("One member of four misreports (packages/protocol/src/sim/lying-member.ts), simulated network");
  console.log("| newton model | lie | rounds | certificate | distance from the honest equilibrium |");
  console.log("|---|---|---:|---|---:|");
  const market = lyingMarket();
  for (const model of NEWTON_MODELS) {
    const contract = { ...market.contract, priceRule: { kind: "newton", model } as const };
    for (const lie of [null, ...LIES]) {
      const r = runLyingMarket(contract, market.profiles, lie, 1);
      const kind = r.certificate?.commit.approximate
        ? `approximate (${r.certificate.commit.reason})`
        : "exact";
      console.log(
        `| ${model} | ${lie ?? "none"} | ${r.rounds ?? "none"} | ${r.certificate ? kind : "none"} | ${r.error.toExponential(1)} |`,
      );
    }
  }
  console.log("");
}

/** Random markets (the property tests' generator): the rounds distribution of the newton rule. */
function randomMarkets(perResourceCount: number): void {
  console.log(
    `Random markets, ${perResourceCount} per resource count (suppliers, agents at the kink; \`pnpm fuzz:markets\` runs 100,000 and checks each against the reference solver)`,
  );
  console.log("| newton model | resources | median rounds | p99 | max | not converged |");
  console.log("|---|---:|---:|---:|---:|---:|");
  for (const model of NEWTON_MODELS)
    for (const R of [1, 2, 3, 4]) randomMarketRow(model, R, perResourceCount);
  console.log("");
}

function randomMarketRow(model: NewtonModel, R: number, count: number): void {
  const markets = fc.sample(marketArb({ resources: R, kinkAgents: 3 }), { seed: SEED + R, numRuns: count });
  const rounds = markets
    .map((m) => simulate(m, { rule: { kind: "newton", model } }))
    .map((r) =>
      r.status === "converged" || r.status === "not-binding" ? r.rounds : Number.POSITIVE_INFINITY,
    );
  rounds.sort((a, b) => a - b);
  const at = (q: number) => rounds[Math.min(rounds.length - 1, Math.floor(q * rounds.length))];
  const failed = rounds.filter((v) => !Number.isFinite(v)).length;
  console.log(`| ${model} | ${R} | ${at(0.5)} | ${at(0.99)} | ${rounds.at(-1)} | ${failed} |`);
}

export const engineBench: BenchSection = {
  name: "engine",
  description:
    "simulate() to residual 1e-6: newton vs gradient (derived step), paper agents, m = n; a lying member; random markets",
  run: () => {
    run();
    lyingMembers();
    randomMarkets(1000);
  },
};
