/**
 * `pnpm fuzz`: the long fuzzing run. The properties the CI runs a few thousand times
 * (packages/protocol/test/protocol.fuzz.test.ts) are run here for `--cases` in all (default
 * 1,000,000), shared out by each property's weight. Prints cases, time and cases/s per property
 * and in total; exits 1 on the first counterexample, with fast-check's seed and shrunk input.
 *
 *   pnpm fuzz [--cases N] [--seed S]
 */
import fc from "fast-check";
import { fuzzSuite } from "../packages/protocol/test/fuzz-properties.ts";
import { nonNegativeInt } from "./flags.ts";

const total = nonNegativeInt("cases", 1_000_000);
const seed = nonNegativeInt("seed", Date.now() % 2 ** 31);
const weights = fuzzSuite.reduce((sum, c) => sum + c.weight, 0);

console.log(`walras fuzz: ${total} cases, seed ${seed}`);
console.log("property                          cases      seconds   cases/s");
let done = 0;
const started = performance.now();
for (const { name, property, weight } of fuzzSuite) {
  const runs = Math.max(1, Math.round((total * weight) / weights));
  const t0 = performance.now();
  const details = await fc.check(property(), { numRuns: runs, seed });
  const seconds = (performance.now() - t0) / 1000;
  if (details.failed) {
    console.error(fc.defaultReportMessage(details) ?? `${name} failed`);
    process.exit(1);
  }
  done += details.numRuns;
  console.log(
    `${name.padEnd(32)} ${String(details.numRuns).padStart(9)} ${seconds.toFixed(1).padStart(9)} ${Math.round(
      details.numRuns / seconds,
    )
      .toString()
      .padStart(9)}`,
  );
}
const seconds = (performance.now() - started) / 1000;
console.log(
  `${"total".padEnd(32)} ${String(done).padStart(9)} ${seconds.toFixed(1).padStart(9)} ${Math.round(
    done / seconds,
  )
    .toString()
    .padStart(9)}`,
);
