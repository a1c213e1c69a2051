import fc from "fast-check";
import { describe, it } from "vitest";
import { fuzzSuite } from "./fuzz-properties.ts";

/**
 * The CI share of the fuzzing (a few thousand cases in all, seeded from the clock so every run
 * explores new ground; a failure prints its seed and shrunk counterexample). `pnpm fuzz` runs the
 * same properties for >= 1,000,000 cases.
 */
const CI_RUNS: Record<string, number> = {
  "decode arbitrary bytes": 1500,
  "decode arbitrary JSON": 1000,
  "valid messages round-trip": 400,
  "mutated messages judged": 800,
  "machine, random event orders": 150,
  "simulated markets with faults": 4,
};

describe("fuzzing (fast-check)", () => {
  for (const { name, property } of fuzzSuite) {
    it(name, () => {
      fc.assert(property(), { numRuns: CI_RUNS[name] ?? 100 });
    });
  }
});
