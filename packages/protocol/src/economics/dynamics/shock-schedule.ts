import { createPrng, nextSeed } from "../../random/prng.ts";
import type { Contract, PriceRule } from "../../wire/contract.ts";
import type { ScenarioAgent } from "../agent.ts";
import { paperProfiles, paperScenario } from "../paper-scenario.ts";
import { type Scenario, scenarioSchema } from "../scenario.ts";
import { churnStep } from "./churn-process.ts";
import { driftAgents } from "./demand-drift.ts";
import type { SlotMarket } from "./slot-market.ts";

/**
 * The paper's dynamic environments, one slot sequence each (docs/economics.md §Dynamics):
 * "fee" — the per-unit fee tau jumps to shockTau at slot `at` (fee volatility);
 * "capacity" — capacity jumps to shockCapacity at slot `at` (a supply shock);
 * "churn" — members join and leave every slot (participation shocks), see churn-process.ts.
 * With `until`, a fee or capacity shock ends there and the original terms return.
 */
export type Shock = "fee" | "capacity" | "churn";
export const SHOCKS: readonly Shock[] = ["fee", "capacity", "churn"];

export interface ShockScheduleOptions {
  readonly shock: Shock;
  readonly slots?: number;
  /** Agents of slot 0 (and the mean membership under churn). */
  readonly agents?: number;
  readonly capacity?: number;
  readonly tau?: number;
  readonly g?: number;
  /** Seeds every draw: slot 0's agents, the drift, the churn and the newcomers. */
  readonly seed?: number;
  readonly at?: number;
  readonly until?: number | null;
  readonly shockTau?: number;
  readonly shockCapacity?: number;
  /** Per-slot probability that a member leaves (churn only). */
  readonly churn?: number;
  /** Per-slot valuation drift (demand-drift.ts), in every scenario. */
  readonly drift?: number;
  readonly rule?: PriceRule["kind"];
}

export type ResolvedShockSchedule = Required<ShockScheduleOptions>;

/**
 * Defaults: the paper's distributions and fees (tau = 0.5, g = 1) with n = 50 agents on m = 100,
 * where capacity binds (at the paper's n = 20 it almost never does, and every price would be 0).
 * Throws a RangeError naming the option when one is out of range.
 */
export function resolveShockSchedule(options: ShockScheduleOptions): ResolvedShockSchedule {
  const slots = options.slots ?? 40;
  const o: ResolvedShockSchedule = {
    shock: options.shock,
    slots,
    agents: options.agents ?? 50,
    capacity: options.capacity ?? 100,
    tau: options.tau ?? 0.5,
    g: options.g ?? 1,
    seed: options.seed ?? 1,
    at: options.at ?? Math.max(1, Math.floor(slots / 4)),
    until: options.until ?? null,
    shockTau: options.shockTau ?? 1.5,
    shockCapacity: options.shockCapacity ?? 70,
    churn: options.churn ?? 0.1,
    drift: options.drift ?? 0.02,
    rule: options.rule ?? "newton",
  };
  if (!SHOCKS.includes(o.shock)) throw new RangeError(`shock must be one of ${SHOCKS.join(", ")}`);
  if (!Number.isInteger(o.slots) || o.slots < 2) throw new RangeError("slots must be an integer >= 2");
  if (!Number.isInteger(o.agents) || o.agents < 1) throw new RangeError("agents must be an integer >= 1");
  if (!Number.isInteger(o.at) || o.at < 1 || o.at >= o.slots)
    throw new RangeError(
      `at must be an integer in [1, ${o.slots - 1}] (a slot after the first), got ${o.at}`,
    );
  if (o.until !== null && (!Number.isInteger(o.until) || o.until <= o.at || o.until > o.slots))
    throw new RangeError(
      `until must be an integer in [${o.at + 1}, ${o.slots}] (later than the shock), got ${o.until}`,
    );
  if (!(o.capacity > 0 && Number.isFinite(o.capacity))) throw new RangeError("capacity must be > 0");
  if (!(o.shockCapacity > 0 && Number.isFinite(o.shockCapacity)))
    throw new RangeError("shock capacity must be > 0");
  if (!(o.tau >= 0 && Number.isFinite(o.tau))) throw new RangeError("tau must be >= 0");
  if (!(o.shockTau >= 0 && Number.isFinite(o.shockTau))) throw new RangeError("shock tau must be >= 0");
  if (!(o.g >= 0 && Number.isFinite(o.g))) throw new RangeError("g must be >= 0");
  if (!(o.churn >= 0 && o.churn < 1)) throw new RangeError(`churn must be in [0, 1), got ${o.churn}`);
  if (!(o.drift >= 0 && o.drift < 1)) throw new RangeError(`drift must be in [0, 1), got ${o.drift}`);
  return o;
}

/** The slot sequence of one scenario. Deterministic in the options (the seed above all). */
export function shockSchedule(options: ShockScheduleOptions): SlotMarket[] {
  const o = resolveShockSchedule(options);
  const master = createPrng(o.seed);
  const base: Scenario = scenarioSchema.parse(
    paperScenario({
      agents: o.agents,
      capacity: o.capacity,
      seed: nextSeed(master),
      tau: o.tau,
      g: o.g,
      rule: o.rule,
    }),
  );
  const drift = createPrng(nextSeed(master));
  const churn = createPrng(nextSeed(master));
  const newcomers = createPrng(nextSeed(master));
  let nextId = o.agents + 1;

  const markets: SlotMarket[] = [];
  let agents: ScenarioAgent[] = base.agents;
  for (let slot = 0; slot < o.slots; slot++) {
    let joined: string[] = agents.map((a) => a.id);
    let left: string[] = [];
    if (slot > 0) {
      agents = driftAgents(agents, o.drift, drift);
      joined = [];
      if (o.shock === "churn") {
        const step = churnStep(agents, o.churn, o.agents, churn);
        const arrivals = paperProfiles(step.arrivals, nextSeed(newcomers)).map((p) => ({
          id: `a${nextId++}`,
          ...p,
        }));
        agents = [...step.stay, ...arrivals];
        joined = arrivals.map((a) => a.id);
        left = step.left;
      }
    }
    markets.push({ slot, scenario: { contract: termsAt(base.contract, o, slot), agents }, joined, left });
  }
  return markets;
}

function termsAt(contract: Contract, o: ResolvedShockSchedule, slot: number): Contract {
  const shocked = slot >= o.at && (o.until === null || slot < o.until);
  if (!shocked || o.shock === "churn") return contract;
  if (o.shock === "fee") return { ...contract, fees: { ...contract.fees, perUnit: o.shockTau } };
  return { ...contract, resources: contract.resources.map((r) => ({ ...r, capacity: o.shockCapacity })) };
}
