import { createPrng, nextSeed } from "../random/prng.ts";
import type { PriceRule } from "../wire/contract.ts";
import { allocateContract } from "./baselines/contract.ts";
import { allocateFcfs } from "./baselines/fcfs.ts";
import { allocateFlatPrice, postedPriceFor } from "./baselines/flat.ts";
import type { Mechanism, MechanismOutcome } from "./baselines/outcome.ts";
import { allocateProportional } from "./baselines/proportional.ts";
import { computeMetrics, type Metrics } from "./metrics.ts";
import { paperExpectedSupply, paperScenario } from "./paper-scenario.ts";
import { welfareOptimum } from "./reference-solver.ts";
import { type Scenario, scenarioSchema } from "./scenario.ts";

export interface PaperExperimentOptions {
  /** Independent scenarios per configuration; the paper uses 1000. */
  readonly replications?: number;
  /** Seeds every replication's scenario and arrival order: the whole table follows from it. */
  readonly seed?: number;
  readonly agents?: number;
  readonly capacity?: number;
  /** Per-unit fee of the mechanism comparison. */
  readonly tau?: number;
  /** Fixed fee, in the comparison and the sweep. */
  readonly g?: number;
  readonly rule?: PriceRule["kind"];
  /** The per-unit fees of the sweep. */
  readonly fees?: readonly number[];
  /**
   * Round limit of the contract mechanism. With g > 0 demand jumps and an exactly clearing price may
   * not exist; the price rule then reports its best round at the limit, so a modest one saves time.
   */
  readonly maxRounds?: number;
}

export type ResolvedExperimentOptions = Required<PaperExperimentOptions>;

/** Mean and sample standard deviation over replications. */
export interface Summary {
  readonly mean: number;
  readonly sd: number;
}

export interface MechanismRow {
  readonly mechanism: Mechanism;
  readonly efficiency: Summary;
  /** Efficiency / n: the scale of the paper's Table 6. */
  readonly efficiencyPerAgent: Summary;
  readonly gini: Summary;
  readonly jain: Summary;
  readonly participation: Summary;
  /** (optimum - efficiency) / |optimum|. */
  readonly welfareGap: Summary;
  readonly envy: Summary;
}

export interface FeeRow {
  readonly tau: number;
  readonly efficiency: Summary;
  /** 1 - Gini, the paper's Table 5 "equality". */
  readonly equality: Summary;
  readonly participation: Summary;
  /** The contract's equilibrium price p*. */
  readonly price: Summary;
  /** Fraction of replications where capacity binds at the contract equilibrium (p* > 0). */
  readonly binding: number;
}

export interface PaperExperiment {
  readonly options: ResolvedExperimentOptions;
  /** The flat contract's posted price at the comparison's tau (set from the type distribution). */
  readonly postedPrice: number;
  /** Fraction of replications where capacity binds at the contract equilibrium (p* > 0). */
  readonly binding: number;
  /** Price-rule rounds the contract mechanism took. */
  readonly rounds: Summary;
  /**
   * Replications that ended without an exact clearing price: the stall rule (or the round limit)
   * stopped them at their best round, which is what is counted for them.
   */
  readonly approximate: number;
  readonly mechanisms: readonly MechanismRow[];
  readonly feeSweep: readonly FeeRow[];
}

export const PAPER_FEES: readonly number[] = [0, 0.5, 1, 1.5, 2];

/**
 * The paper's §6 experiment: the four mechanisms on the same replications (common random numbers),
 * then the contract mechanism across per-unit fees, again on the same agents. Deterministic in
 * `seed`. Defined in docs/economics.md §Experiment.
 */
export function runPaperExperiment(options: PaperExperimentOptions = {}): PaperExperiment {
  const o: ResolvedExperimentOptions = {
    replications: options.replications ?? 200,
    seed: options.seed ?? 1,
    agents: options.agents ?? 20,
    capacity: options.capacity ?? 100,
    tau: options.tau ?? 0.5,
    g: options.g ?? 1,
    rule: options.rule ?? "newton",
    fees: options.fees ?? PAPER_FEES,
    maxRounds: options.maxRounds ?? 200,
  };
  if (!Number.isInteger(o.replications) || o.replications < 2)
    throw new RangeError("replications must be an integer >= 2 (a standard deviation needs two)");
  const master = createPrng(o.seed);
  const seeds = Array.from({ length: o.replications }, () => ({
    scenario: nextSeed(master),
    arrival: nextSeed(master),
  }));
  const scenarioAt = (seed: number, tau: number): Scenario =>
    scenarioSchema.parse(
      paperScenario({ agents: o.agents, capacity: o.capacity, seed, tau, g: o.g, rule: o.rule }),
    );
  const rule: PriceRule = { kind: o.rule };
  const limits = { rule, maxRounds: o.maxRounds };

  const postedPrice = postedPriceFor(
    (p) => paperExpectedSupply({ agents: o.agents, tau: o.tau, g: o.g }, p),
    o.capacity,
  );
  const byMechanism = new Map<Mechanism, Metrics[]>();
  const rounds: number[] = [];
  let binding = 0;
  let approximate = 0;
  for (const seed of seeds) {
    const scenario = scenarioAt(seed.scenario, o.tau);
    const optimum = welfareOptimum(scenario).welfare;
    const contract = allocateContract(scenario, limits);
    rounds.push(contract.rounds);
    if (contract.status === "round-limit" || contract.status === "stalled") approximate++;
    if ((contract.prices[0] ?? 0) > 0) binding++;
    const outcomes: MechanismOutcome[] = [
      allocateFcfs(scenario, seed.arrival),
      allocateProportional(scenario),
      allocateFlatPrice(scenario, [postedPrice]),
      contract,
    ];
    for (const outcome of outcomes) {
      const list = byMechanism.get(outcome.mechanism) ?? [];
      list.push(computeMetrics(scenario, outcome, { optimum }));
      byMechanism.set(outcome.mechanism, list);
    }
  }
  const mechanisms = [...byMechanism].map(([mechanism, ms]) => ({
    mechanism,
    efficiency: summarise(ms.map((m) => m.efficiency)),
    efficiencyPerAgent: summarise(ms.map((m) => m.efficiency / o.agents)),
    gini: summarise(ms.map((m) => m.gini)),
    jain: summarise(ms.map((m) => m.jain)),
    participation: summarise(ms.map((m) => m.participation)),
    welfareGap: summarise(ms.map((m) => m.relativeWelfareGap ?? Number.NaN)),
    envy: summarise(ms.map((m) => m.envy)),
  }));

  const feeSweep = o.fees.map((tau): FeeRow => {
    const ms: Metrics[] = [];
    const prices: number[] = [];
    for (const seed of seeds) {
      const scenario = scenarioAt(seed.scenario, tau);
      const outcome = allocateContract(scenario, limits);
      prices.push(outcome.prices[0] ?? 0);
      ms.push(computeMetrics(scenario, outcome, { optimum: null }));
    }
    return {
      tau,
      efficiency: summarise(ms.map((m) => m.efficiency)),
      equality: summarise(ms.map((m) => 1 - m.gini)),
      participation: summarise(ms.map((m) => m.participation)),
      price: summarise(prices),
      binding: prices.filter((p) => p > 0).length / prices.length,
    };
  });

  return {
    options: o,
    postedPrice,
    binding: binding / o.replications,
    rounds: summarise(rounds),
    approximate,
    mechanisms,
    feeSweep,
  };
}

/** Mean and sample standard deviation (n - 1 in the denominator). */
export function summarise(values: readonly number[]): Summary {
  const n = values.length;
  if (n === 0) return { mean: Number.NaN, sd: Number.NaN };
  const mean = values.reduce((s, v) => s + v, 0) / n;
  if (n === 1) return { mean, sd: 0 };
  const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1);
  return { mean, sd: Math.sqrt(variance) };
}
