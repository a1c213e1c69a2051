import { describe, expect, it } from "vitest";
import { solveReference } from "../src/economics/reference-solver.ts";
import { runAggregation } from "../src/sim/scale/aggregation-run.ts";
import { runScale } from "../src/sim/scale/scale-run.ts";
import { scaleScenario } from "../src/sim/scale/scale-scenario.ts";
import { NEWTON_MODELS } from "../src/wire/contract.ts";

describe("the aggregation timing model (docs/scaling.md §2)", () => {
  for (const model of NEWTON_MODELS)
    it(`prices rounds as the real machines do (newton, ${model} model): the same certified prices and rounds, and the reference solver's`, () => {
      const machines = runScale({ agents: 60, cpuPerMessageMs: 0.15, model });
      const cert = machines.certificate;
      if (!cert) throw new Error("the machines did not certify");
      const run = runAggregation({
        agents: 60,
        ids: machines.ids,
        committeeSize: 16,
        cpuPerMessageMs: 0.15,
        model,
      });
      expect(run.committees).toBe(4);
      expect(run.converged).toBe(true);
      expect(run.prices).toEqual(cert.commit.prices);
      expect(run.rounds).toBe(cert.commit.round + 1);
      const ref = solveReference(scaleScenario(60, 1, 0.15).scenario);
      expect(Math.abs((run.prices[0] as number) - (ref.prices[0] as number))).toBeLessThan(
        1e-3 * (ref.prices[0] as number),
      );
    });

  it("takes two hops a round when handling costs nothing, and a committee's CPU more when it does", () => {
    const hop = 50;
    const free = runAggregation({
      agents: 40,
      committeeSize: 10,
      cpuPerMessageMs: 0,
      latencyMs: { min: hop, max: hop },
    });
    // The decision reaches every node in one hop; each round is a demand hop and an aggregate hop.
    for (const [k, t] of free.roundsDoneMs.entries())
      expect(t, `round ${k}`).toBeCloseTo(hop + 2 * hop * (k + 1), 9);
    // Commits: a hop to the bundlers, a hop to everyone.
    expect(free.certifiedAtMs).toBeCloseTo(free.settledAtMs + 2 * hop, 9);

    // Over gossipsub's meshes: ⌈log₇ 10⌉ = 2 hops on a subnet of 10, ⌈log₇ 40⌉ = 2 on the global topic.
    const meshed = runAggregation({
      agents: 40,
      committeeSize: 10,
      cpuPerMessageMs: 0,
      latencyMs: { min: hop, max: hop },
      hops: "mesh",
    });
    expect(meshed.hops).toEqual([2, 2]);
    for (const [k, t] of meshed.roundsDoneMs.entries())
      expect(t, `round ${k}, meshed`).toBeCloseTo(2 * hop + 4 * hop * (k + 1), 9);

    const c = 2;
    const paid = runAggregation({
      agents: 40,
      committeeSize: 10,
      cpuPerMessageMs: c,
      latencyMs: { min: hop, max: hop },
    });
    expect(paid.rounds).toBe(free.rounds);
    // An aggregator handles its committee's other demands, then signs: at least that on every round.
    const smallest = Math.min(...paid.committeeSizes);
    for (let k = 1; k < paid.rounds; k++) {
      const took = (paid.roundsDoneMs[k] as number) - (paid.roundsDoneMs[k - 1] as number);
      expect(took, `round ${k}`).toBeGreaterThanOrEqual(2 * hop + smallest * c);
    }
  });

  it("replays exactly from its seed", () => {
    const a = runAggregation({ agents: 300, cpuPerMessageMs: 0.15, committeeSize: 64, seed: 7 });
    const b = runAggregation({ agents: 300, cpuPerMessageMs: 0.15, committeeSize: 64, seed: 7 });
    expect(b.roundsDoneMs).toEqual(a.roundsDoneMs);
    expect(b.certifiedAtMs).toBe(a.certifiedAtMs);
  });
});
