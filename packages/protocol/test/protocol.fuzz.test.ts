import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SimulatedNetwork } from "../src/sim/simulated-network.ts";
import { verifyCertificate } from "../src/wire/certificate.ts";
import { contractSchema } from "../src/wire/contract.ts";
import { fuzzSuite } from "./fuzz-properties.ts";

/**
 * The CI share of the fuzzing (a few thousand cases in all), from one fixed seed so a CI run is
 * the same every time (test/fast-check-seed.ts); FC_SEED=random explores new ground, and a failure
 * prints its seed and shrunk counterexample (FC_SEED=<seed> replays it). `pnpm fuzz` runs the
 * same properties for >= 1,000,000 cases from a seed of its own, drawn from the clock.
 */
const CI_RUNS: Record<string, number> = {
  "decode arbitrary bytes": 1500,
  "decode arbitrary JSON": 1000,
  "valid messages round-trip": 400,
  "mutated messages judged": 800,
  "machine, random event orders": 150,
  "simulated markets with faults": 4,
  "markets at the input bounds": 30,
};

describe("fuzzing (fast-check)", () => {
  for (const { name, property } of fuzzSuite) {
    it(name, () => {
      fc.assert(property(), { numRuns: CI_RUNS[name] ?? 100 });
    });
  }
});

describe("found by fault testing", () => {
  it("a lone member running thousands of rounds closes them without overflowing the stack", () => {
    const contract = contractSchema.parse({
      name: "lone",
      resources: [{ id: "capacity", capacity: 3 }],
      fees: { perUnit: 0.5, fixed: 0 },
      priceRule: { kind: "gradient", step: 0.002 },
      maxRounds: 100_000,
      timeouts: { roundMs: 1000, announceMs: 100 },
    });
    const net = new SimulatedNetwork({ contract, seed: 1 });
    const node = net.addAgent("lone", {
      valuation: { kind: "log", alpha: 10 },
      cost: { kind: "linear", beta: 1 },
      footprint: [1],
    });
    expect(net.runUntil(() => node.machine.status().certificate !== null, 10_000)).toBe(true);
    const cert = node.machine.status().certificate;
    expect(cert?.commit.round).toBeGreaterThan(1000);
    // One agent alone: its demand at the committed price fills the capacity.
    expect(cert?.commit.allocations[0]?.x).toBeCloseTo(3, 5);
    expect(verifyCertificate(cert as NonNullable<typeof cert>, contract)).toMatchObject({ ok: true });
  });
});
