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
  type PriceRule,
  paperScenario,
  type Scenario,
  type SimulationResult,
  scenarioSchema,
  simulate,
} from "@walras/protocol";
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
  return r.status === "round-limit" || r.status === "stalled" ? `>${cap}` : String(r.rounds);
}

function run(): void {
  for (const g of [0, 1]) {
    console.log(
      `g = ${g}${g > 0 ? " (demand jumps at the participation margin: approximate equilibrium only)" : ""}`,
    );
    console.log(
      "| n | m | newton rounds | newton ms | gradient rounds | gradient ms | rounds ratio | p* newton | p* gradient |",
    );
    console.log("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (const n of SIZES) {
      const s = scenario(n, g);
      const newton = timed(s, { kind: "newton" }, 1_000);
      const cap = Math.min(GRADIENT_CAP, Math.max(100, Math.floor(GRADIENT_WORK_CAP / n)));
      const gradient = timed(s, { kind: "gradient" }, cap);
      const ratio =
        gradient.result.status === "round-limit" || gradient.result.status === "stalled"
          ? `>${(cap / newton.result.rounds).toFixed(0)}x`
          : `${(gradient.result.rounds / newton.result.rounds).toFixed(1)}x`;
      console.log(
        `| ${n} | ${n} | ${rounds(newton.result, 1_000)} | ${newton.ms.toFixed(1)} | ${rounds(gradient.result, cap)} | ${gradient.ms.toFixed(1)} | ${ratio} | ${newton.result.prices[0]?.toPrecision(10)} (${newton.result.status}) | ${gradient.result.prices[0]?.toPrecision(10)} (${gradient.result.status}) |`,
      );
    }
    console.log("");
  }
}

export const engineBench: BenchSection = {
  name: "engine",
  description: "simulate() to residual 1e-6: newton vs gradient (derived step), paper agents, m = n",
  run,
};
