import { describe, expect, it } from "vitest";
import { certifiedSlotOutcome } from "../src/economics/dynamics/certified-slot.ts";
import { churnStep } from "../src/economics/dynamics/churn-process.ts";
import { driftAgents } from "../src/economics/dynamics/demand-drift.ts";
import { runDynamicsExperiment } from "../src/economics/dynamics/dynamics-experiment.ts";
import { runSlots } from "../src/economics/dynamics/run-slots.ts";
import { type Shock, shockSchedule } from "../src/economics/dynamics/shock-schedule.ts";
import { slotTerms } from "../src/economics/dynamics/slot-market.ts";
import { measureSlot } from "../src/economics/dynamics/slot-record.ts";
import { solveReference, welfare } from "../src/economics/reference-solver.ts";
import { createPrng } from "../src/random/prng.ts";
import type { CommitBody } from "../src/wire/certificate.ts";
import { asContractId } from "../src/wire/ids.ts";

const SHOCKS: readonly Shock[] = ["fee", "capacity", "churn"];

describe("shockSchedule", () => {
  it("changes tau at `at` and restores it at `until`, and nothing else", () => {
    const slots = shockSchedule({
      shock: "fee",
      slots: 8,
      agents: 6,
      at: 3,
      until: 6,
      tau: 0.5,
      shockTau: 2,
    });
    expect(slots.map((s) => s.scenario.contract.fees.perUnit)).toEqual([0.5, 0.5, 0.5, 2, 2, 2, 0.5, 0.5]);
    for (const s of slots) {
      expect(s.scenario.contract.resources[0]?.capacity).toBe(100);
      expect(s.scenario.contract.fees.fixed).toBe(1);
      expect(s.scenario.agents.map((a) => a.id)).toEqual(slots[0]?.scenario.agents.map((a) => a.id));
    }
  });

  it("changes capacity at `at` and keeps it without `until`", () => {
    const slots = shockSchedule({
      shock: "capacity",
      slots: 5,
      agents: 4,
      at: 2,
      capacity: 40,
      shockCapacity: 25,
    });
    expect(slots.map((s) => slotTerms(s.scenario).capacities)).toEqual([[40], [40], [25], [25], [25]]);
  });

  it("keeps every profile when there is no drift, and moves only valuations when there is", () => {
    const still = shockSchedule({ shock: "fee", slots: 4, agents: 5, drift: 0 });
    for (const s of still) expect(s.scenario.agents).toEqual(still[0]?.scenario.agents);
    const moving = shockSchedule({ shock: "fee", slots: 4, agents: 5, drift: 0.1 });
    const [first, last] = [moving[0]?.scenario.agents ?? [], moving[3]?.scenario.agents ?? []];
    expect(last).not.toEqual(first);
    last.forEach((a, i) => {
      const b = first[i];
      if (a.valuation.kind !== "log" || b?.valuation.kind !== "log") throw new Error("paper agents are log");
      expect(a.cost).toEqual(b.cost);
      // Three steps of at most 10% each.
      expect(a.valuation.alpha / b.valuation.alpha).toBeGreaterThan(0.9 ** 3);
      expect(a.valuation.alpha / b.valuation.alpha).toBeLessThan(1.1 ** 3);
    });
  });

  it("under churn, joined and left are exactly the membership changes, and ids are never reused", () => {
    const slots = shockSchedule({ shock: "churn", slots: 30, agents: 20, churn: 0.2, seed: 4 });
    const everSeen = new Set<string>();
    let changes = 0;
    slots.forEach((s, i) => {
      const ids = s.scenario.agents.map((a) => a.id);
      expect(new Set(ids).size).toBe(ids.length);
      const before = new Set(i === 0 ? [] : (slots[i - 1]?.scenario.agents.map((a) => a.id) ?? []));
      const now = new Set(ids);
      expect([...s.joined].sort()).toEqual(ids.filter((id) => !before.has(id)).sort());
      expect([...s.left].sort()).toEqual([...before].filter((id) => !now.has(id)).sort());
      for (const id of s.joined) {
        expect(everSeen.has(id)).toBe(false);
        everSeen.add(id);
      }
      if (i > 0) changes += s.joined.length + s.left.length;
    });
    // 29 steps of 20 agents at rate 0.2: about 116 departures and as many arrivals expected.
    expect(changes).toBeGreaterThan(100);
  });

  it("is a function of its seed", () => {
    const a = shockSchedule({ shock: "churn", slots: 6, agents: 8, seed: 3 });
    expect(shockSchedule({ shock: "churn", slots: 6, agents: 8, seed: 3 })).toEqual(a);
    expect(shockSchedule({ shock: "churn", slots: 6, agents: 8, seed: 5 })).not.toEqual(a);
  });

  it("names the option that is out of range", () => {
    expect(() => shockSchedule({ shock: "fee", slots: 10, at: 10 })).toThrow(/^at must/);
    expect(() => shockSchedule({ shock: "fee", slots: 10, at: 4, until: 4 })).toThrow(/^until must/);
    expect(() => shockSchedule({ shock: "churn", churn: 1 })).toThrow(/^churn must/);
    expect(() => shockSchedule({ shock: "fee", slots: 1 })).toThrow(/^slots must/);
    expect(() => shockSchedule({ shock: "fee", shockCapacity: 0 })).toThrow(/^shock capacity must/);
    expect(() => shockSchedule({ shock: "wind" as Shock })).toThrow(/^shock must/);
  });
});

describe("churnStep and driftAgents", () => {
  const agents = shockSchedule({ shock: "fee", slots: 2, agents: 10 })[0]?.scenario.agents ?? [];

  it("never empties the market", () => {
    // At rate 0.999 nearly everyone leaves every time; one must stay.
    for (let seed = 0; seed < 20; seed++) {
      const step = churnStep(agents.slice(0, 2), 0.999, 2, createPrng(seed));
      expect(step.stay.length).toBeGreaterThanOrEqual(1);
      expect(step.stay.length + step.left.length).toBe(2);
    }
  });

  it("arrivals average rate x mean agents", () => {
    const prng = createPrng(11);
    let total = 0;
    for (let i = 0; i < 2000; i++) total += churnStep(agents, 0.1, 30, prng).arrivals;
    // Poisson(3): the mean of 2000 draws is within 0.15 of 3 with overwhelming probability (sd 0.039).
    expect(total / 2000).toBeGreaterThan(2.85);
    expect(total / 2000).toBeLessThan(3.15);
  });

  it("rejects a drift outside [0, 1)", () => {
    expect(() => driftAgents(agents, 1, createPrng(1))).toThrow(RangeError);
  });
});

describe("runSlots", () => {
  it("every slot's prices and allocations are the reference solver's for that slot's agents and terms", () => {
    for (const shock of SHOCKS) {
      // g = 0: every slot has an exact equilibrium (with g > 0 some do not; see the next test).
      const markets = shockSchedule({ shock, slots: 12, agents: 40, capacity: 60, g: 0, at: 4, seed: 2 });
      for (const start of ["warm", "cold"] as const) {
        const outcomes = runSlots(markets, { start });
        markets.forEach((market, i) => {
          const engine = outcomes[i];
          const reference = solveReference(market.scenario);
          expect(reference.status).toBe("exact");
          expect(engine?.status).toBe("converged");
          const p = engine?.prices[0] ?? Number.NaN;
          const q = reference.prices[0] ?? Number.NaN;
          expect(Math.abs(p - q)).toBeLessThan(1e-6 * Math.max(1, q));
          const ref = new Map(reference.allocations.map((a) => [a.agent as string, a.x]));
          for (const a of engine?.allocations ?? [])
            expect(a.x).toBeCloseTo(ref.get(a.agent) ?? Number.NaN, 5);
        });
      }
    }
  });

  it("with g = 1, slots the reference clears exactly are cleared to its prices", () => {
    const markets = shockSchedule({ shock: "churn", slots: 20, seed: 1 });
    const outcomes = runSlots(markets, { start: "warm", maxRounds: 200 });
    let exact = 0;
    markets.forEach((market, i) => {
      const reference = solveReference(market.scenario);
      if (reference.status !== "exact") return;
      exact++;
      expect(Math.abs((outcomes[i]?.prices[0] ?? 0) - (reference.prices[0] ?? 0))).toBeLessThan(1e-6);
    });
    expect(exact).toBeGreaterThan(10);
  });

  it("a warm start clears an unchanged slot in one round, where a cold start needs several", () => {
    const markets = shockSchedule({ shock: "fee", slots: 6, agents: 50, g: 0, drift: 0, at: 3 });
    const warm = runSlots(markets, { start: "warm" });
    const cold = runSlots(markets, { start: "cold" });
    for (const i of [1, 2, 4, 5]) {
      expect(warm[i]?.rounds).toBe(1);
      expect(warm[i]?.startPrices).toEqual(warm[i - 1]?.prices);
      expect(cold[i]?.rounds).toBeGreaterThanOrEqual(3);
      expect(cold[i]?.startPrices).toEqual([0]);
    }
    // Same markets, same equilibrium, whatever the start.
    warm.forEach((w, i) => {
      expect(w.prices[0]).toBeCloseTo(cold[i]?.prices[0] ?? Number.NaN, 8);
    });
  });

  it("passes a binding fee shock through to the price one for one (tau + p* is what rations)", () => {
    // g = 0, no drift: the agents face tau + p; while capacity binds the equilibrium fixes tau + p*,
    // so raising tau by 0.5 lowers p* by 0.5 and leaves every allocation where it was; Eff falls
    // by 0.5 m since the paper counts fees as a cost.
    const markets = shockSchedule({
      shock: "fee",
      slots: 3,
      agents: 50,
      g: 0,
      drift: 0,
      at: 2,
      tau: 0.5,
      shockTau: 1,
    });
    const [before, , after] = runSlots(markets, { start: "warm" });
    expect((before?.prices[0] ?? 0) - (after?.prices[0] ?? 0)).toBeCloseTo(0.5, 7);
    expect(after?.allocations.map((a) => a.x)).toEqual(
      before?.allocations.map((a) => expect.closeTo(a.x, 6) as unknown as number),
    );
    const [m0, , m2] = markets;
    if (!m0 || !m2 || !before || !after) throw new Error("three slots");
    expect(welfare(m0.scenario, before.allocations) - welfare(m2.scenario, after.allocations)).toBeCloseTo(
      50,
      4,
    );
  });

  it("refuses a warm start across a change in the number of resources", () => {
    const [one] = shockSchedule({ shock: "fee", slots: 2, agents: 3 });
    if (!one) throw new Error("a slot");
    const two = {
      ...one,
      slot: 1,
      scenario: {
        contract: {
          ...one.scenario.contract,
          resources: [...one.scenario.contract.resources, { id: "b", capacity: 5 }],
          initialPrices: [0, 0],
        },
        agents: one.scenario.agents.map((a) => ({ ...a, footprint: [1, 1] })),
      },
    };
    expect(() => runSlots([one, two], { start: "warm" })).toThrow(/slot 1: 2 resources/);
  });
});

describe("measureSlot and certifiedSlotOutcome", () => {
  const markets = shockSchedule({ shock: "capacity", slots: 3, agents: 10, capacity: 30, g: 0, at: 1 });

  it("scores the reference equilibrium as zero gap and zero deviation", () => {
    for (const market of markets) {
      const reference = solveReference(market.scenario);
      const record = measureSlot(market, {
        startPrices: [0],
        prices: reference.prices,
        allocations: reference.allocations,
        rounds: 1,
        status: "converged",
      });
      expect(record.reference.priceDeviation).toBe(0);
      expect(Math.abs(record.relativeWelfareGap)).toBeLessThan(1e-9);
      expect(record.efficiency).toBeCloseTo(welfare(market.scenario, reference.allocations), 12);
      expect(record.terms.capacities).toEqual([market.slot === 0 ? 30 : 70]);
    }
  });

  it("scores prices shifted off the reference by the shift, above or below", () => {
    for (const market of markets) {
      const reference = solveReference(market.scenario);
      const [p] = reference.prices as [number];
      // Off by 0.75 above the reference price (0 where capacity does not bind).
      const record = measureSlot(market, {
        startPrices: [0],
        prices: [p + 0.75],
        allocations: reference.allocations,
        rounds: 1,
        status: "converged",
      });
      expect(record.reference.prices).toEqual(reference.prices);
      expect(record.reference.priceDeviation).toBeCloseTo(0.75, 12);
      const below = measureSlot(market, {
        startPrices: [0],
        prices: [p - 0.5],
        allocations: reference.allocations,
        rounds: 1,
        status: "converged",
      });
      expect(below.reference.priceDeviation).toBeCloseTo(0.5, 12);
    }
  });

  it("a certificate's commit gives the engine's record: the live run's path", () => {
    const outcomes = runSlots(markets, { start: "warm" });
    markets.forEach((market, i) => {
      const engine = outcomes[i];
      if (!engine) throw new Error("an outcome per slot");
      const commit: CommitBody = {
        v: 2,
        kind: "commit",
        contract: asContractId("0".repeat(64)),
        epoch: 1,
        // A slot that opened at round 40 and took engine.rounds rounds.
        round: 40 + engine.rounds - 1,
        members: engine.allocations.map((a) => a.agent),
        prices: engine.prices,
        allocations: engine.allocations.map((a) => ({ agent: a.agent, x: a.x, footprint: [1] })),
        residual: 0,
      } as unknown as CommitBody;
      const live = certifiedSlotOutcome(commit, engine.startPrices, 40);
      expect(live).toEqual({ ...engine, allocations: engine.allocations.map((a) => ({ ...a })) });
      expect(measureSlot(market, live)).toEqual(measureSlot(market, engine));
    });
    const approximate = {
      prices: [1],
      allocations: [],
      round: 3,
      approximate: true,
    } as unknown as CommitBody;
    expect(certifiedSlotOutcome(approximate, [1]).status).toBe("approximate");
    expect(() => certifiedSlotOutcome(approximate, [1], 4)).toThrow(/before the slot's first round/);
  });
});

describe("runDynamicsExperiment", () => {
  it("matches the reference on every exactly clearing slot and warm-starts in fewer rounds on quiet slots", () => {
    for (const shock of SHOCKS) {
      const r = runDynamicsExperiment({ shock, slots: 16, agents: 30, capacity: 60, seed: 3 });
      expect(r.slots).toHaveLength(16);
      expect(r.maxPriceDeviation).toBeLessThan(1e-6);
      expect(r.missedExactPrice).toEqual({ warm: 0, cold: 0 });
      const exactly = r.slots.filter((s) => s.reference.status !== "approximate");
      expect(r.noExactPrice.warm).toBe(r.slots.length - exactly.length);
      const markets = shockSchedule(r.options);
      for (const s of r.slots) {
        if (s.reference.status === "exact") {
          expect([s.status, s.cold.status]).toEqual(["converged", "converged"]);
          // The slot's prices against the reference solver, run here on the slot's own market.
          const reference = solveReference((markets[s.slot] as (typeof markets)[number]).scenario);
          s.prices.forEach((p, k) => {
            const q = reference.prices[k] as number;
            expect(Math.abs(p - q)).toBeLessThan(1e-6 * Math.max(1, q));
          });
          expect(s.prices).toHaveLength(reference.prices.length);
        }
        expect(s.startPrices).toEqual(s.slot === 0 ? [0] : r.slots[s.slot - 1]?.prices);
      }
      if (shock === "churn") expect(r.quiet.slots).toBe(0);
      else {
        expect(r.quiet.slots).toBeGreaterThan(8);
        expect(r.quiet.warm.mean).toBeLessThan(r.quiet.cold.mean);
        // Only the 2% drift moved demand: the "1-3 rounds when little changed".
        expect(r.quiet.warm.mean).toBeLessThanOrEqual(3.5);
      }
    }
  });

  it("is a function of its options", () => {
    const o = { shock: "churn" as const, slots: 6, agents: 20, seed: 9 };
    expect(runDynamicsExperiment(o)).toEqual(runDynamicsExperiment(o));
  });
});
