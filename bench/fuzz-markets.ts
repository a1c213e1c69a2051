/**
 * `pnpm fuzz:markets`: the long run of the newton rule on random markets. Draws `--markets`
 * markets (default 100,000) from the property tests' generator (packages/protocol/test/
 * market-arbitrary.ts): 1-4 resources, consumers and suppliers (negative footprints), footprint
 * entries that are often 0 (rank-deficient Jacobians), and up to three agents placed exactly at
 * their participation kink at the equilibrium. Each must reach the stopping rule within
 * `--rounds` (default 30) and agree with the reference solver to 1e-6 (checkEquilibrium). Prints
 * the rounds distribution (median, p99, max) per resource count; exits 1 on the first failure,
 * with the seed, the index and the market as JSON so that it can be replayed.
 *
 * With `--keep-going` it counts failures instead, printing the first few. `--model sums` runs the
 * newton rule's sums model (economics/sums-model.ts) instead of its hinge model. `--spread D`
 * scales each agent's money and units and each capacity by up to D decades either way
 * (market-arbitrary.ts): members of very different sizes in one market.
 *
 *   pnpm fuzz:markets [--markets N] [--seed S] [--rounds K] [--model hinges|sums] [--spread D] [--keep-going]
 */
import fc from "fast-check";
import { simulate } from "../packages/protocol/src/economics/equilibrium.ts";
import type { Scenario } from "../packages/protocol/src/economics/scenario.ts";
import { NEWTON_MODELS } from "../packages/protocol/src/wire/contract.ts";
import { checkEquilibrium } from "../packages/protocol/test/equilibrium-check.ts";
import { marketArb } from "../packages/protocol/test/market-arbitrary.ts";
import { choice, nonNegativeInt } from "./flags.ts";

const total = nonNegativeInt("markets", 100_000);
const seed = nonNegativeInt("seed", Date.now() % 2 ** 31);
const maxRounds = nonNegativeInt("rounds", 30);
const model = choice("model", NEWTON_MODELS, "hinges");
const RESOURCES = [1, 2, 3, 4];
/** Markets are drawn in batches from consecutive seeds, so a failure names a replayable seed. */
const BATCH = 1000;
const keepGoing = process.argv.includes("--keep-going");
const SHOWN_FAILURES = 5;
/** `--show-over K`: also print (to stderr, as JSON) every market that needed more than K rounds. */
const showOver = nonNegativeInt("show-over", Number.POSITIVE_INFINITY);
const spread = nonNegativeInt("spread", 0);

function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

console.log(
  `walras fuzz:markets: ${total} markets, seed ${seed}, newton (${model} model), at most ${maxRounds} rounds each${spread > 0 ? `, scales spread over ±${spread} decades` : ""}`,
);
console.log("| resources | markets | with kink agents | median rounds | p99 | max | seconds |");
console.log("|---:|---:|---:|---:|---:|---:|---:|");
const all: number[] = [];
let failed = false;
let failures = 0;
for (const R of RESOURCES) {
  const share = Math.floor(total / RESOURCES.length) + (R <= total % RESOURCES.length ? 1 : 0);
  const arb = marketArb({ resources: R, kinkAgents: 3, spread });
  const rounds: number[] = [];
  let kinked = 0;
  const started = performance.now();
  for (let batch = 0; rounds.length < share && !failed; batch++) {
    const batchSeed = (seed + R * 1_000_003 + batch) % 2 ** 31;
    const markets = fc.sample(arb, { seed: batchSeed, numRuns: Math.min(BATCH, share - rounds.length) });
    markets.forEach((scenario: Scenario, index) => {
      if (failed) return;
      const result = simulate(scenario, { rule: { kind: "newton", model } });
      try {
        checkEquilibrium(scenario, result);
        if (result.rounds > maxRounds) throw new Error(`${result.rounds} rounds, more than ${maxRounds}`);
      } catch (err) {
        failures += 1;
        failed = !keepGoing;
        if (failures <= SHOWN_FAILURES) {
          console.error(
            `FAILED (resources ${R}, sample seed ${batchSeed}, index ${index}): ${(err as Error).message}`,
          );
          console.error(JSON.stringify(scenario));
        }
        rounds.push(Number.POSITIVE_INFINITY);
        return;
      }
      rounds.push(result.rounds);
      if (result.rounds > showOver) console.error(JSON.stringify(scenario));
      if (scenario.agents.some((a) => a.id.startsWith("kink-"))) kinked += 1;
    });
  }
  const sorted = [...rounds].sort((a, b) => a - b);
  all.push(...rounds);
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `| ${R} | ${rounds.length} | ${kinked} | ${percentile(sorted, 0.5)} | ${percentile(sorted, 0.99)} | ${sorted.at(-1)} | ${seconds.toFixed(0)} |`,
  );
  if (failed) break;
}
const sorted = all.sort((a, b) => a - b);
console.log(
  `| all | ${sorted.length} | | ${percentile(sorted, 0.5)} | ${percentile(sorted, 0.99)} | ${sorted.at(-1)} | |`,
);
// The sum over the markets that finished: a change of rule shows here before it moves a percentile.
console.log(`rounds in all (finished markets): ${sorted.filter(Number.isFinite).reduce((a, b) => a + b, 0)}`);
if (failures > 0) {
  console.log(`${failures} of ${sorted.length} markets failed`);
  process.exit(1);
}
