import {
  type DynamicsExperiment,
  type LiveDynamics,
  noExactPrice,
  type ResolvedShockSchedule,
  type SlotRecord,
} from "@walras/protocol";
import type { ChartFigure } from "../../chart/svg-panels.ts";
import { shockLabel, shockMarkers } from "./dynamics-shock-label.ts";

const BLUE = "#1f5fa8";
const ORANGE = "#e07b00";
const GREY = "#777777";
const GREEN = "#2e8b3a";
const PURPLE = "#7a3fa0";
const RED = "#cc3333";

/** Slots as one run cleared them, and a second count of rounds to draw beside that run's. */
interface SlotsDrawn {
  readonly slots: readonly SlotRecord[];
  /** Who cleared them, in legends: "engine" or "network". */
  readonly run: string;
  /** What the price panel's title says cleared them. */
  readonly runTitle: string;
  readonly second: {
    readonly name: string;
    /** Rounds per slot; null where that run hit its round limit. */
    readonly rounds: readonly (number | null)[];
  };
}

/**
 * The dynamics experiment as four panels over slots: the price path beside the reference solver's
 * and the fee, welfare beside the optimum, agents present and active, and the rounds each slot took
 * warm- and cold-started. Only the first resource is drawn (the paper's economies have one).
 */
export function dynamicsFigure(r: DynamicsExperiment): ChartFigure {
  const o = r.options;
  return {
    title: `Dynamics: ${shockLabel(o)}`,
    subtitle: `${economy(o, `n = ${o.agents}${o.shock === "churn" ? " on average" : ""}`)}, seed ${o.seed}`,
    xLabel: "slot",
    x: r.slots.map((s) => s.slot),
    markers: shockMarkers(o),
    panels: slotPanels({
      slots: r.slots,
      run: "engine",
      runTitle: "network engine, warm start",
      second: {
        name: "cold start",
        rounds: r.slots.map((s) => (noExactPrice(s.cold.status) ? null : s.cold.rounds)),
      },
    }),
  };
}

/**
 * The same four panels for a live run: the certified slots of real node processes, each beside
 * its reference, and in the rounds panel the engine clearing the same markets. The rules across
 * the panels mark the slots whose certificate carries new terms.
 */
export function liveDynamicsFigure(o: ResolvedShockSchedule, nodes: number, live: LiveDynamics): ChartFigure {
  return {
    title: `Dynamics on a live network: ${shockLabel(o)}`,
    subtitle: `${economy(o, `${nodes} node processes${o.shock === "churn" ? " at the start" : ""}`)}, seed ${o.seed}`,
    xLabel: "certified slot (ledger order)",
    x: live.slots.map((s) => s.slot),
    markers: termsMarkers(live.slots),
    panels: slotPanels({
      slots: live.slots,
      run: "network",
      runTitle: "certified by the live network",
      second: {
        name: "engine, same markets",
        rounds: live.slots.map((s) => (noExactPrice(s.engine.status) ? null : s.engine.rounds)),
      },
    }),
  };
}

function economy(o: ResolvedShockSchedule, agents: string): string {
  return `${agents}, m = ${o.capacity}, tau = ${o.tau}, g = ${o.g}, ${o.rule} rule, valuation drift ±${100 * o.drift}% per slot`;
}

/** The slots whose terms differ from the slot before, labelled with what changed. */
function termsMarkers(slots: readonly SlotRecord[]): { x: number; label: string }[] {
  return slots.flatMap((s, i) => {
    const before = slots[i - 1]?.terms;
    if (!before) return [];
    const changes = [
      ...(s.terms.perUnit !== before.perUnit ? [`tau = ${s.terms.perUnit}`] : []),
      ...(s.terms.fixed !== before.fixed ? [`g = ${s.terms.fixed}`] : []),
      ...(s.terms.capacities.some((m, r) => m !== before.capacities[r])
        ? [`m = ${s.terms.capacities[0]}`]
        : []),
    ];
    return changes.length === 0 ? [] : [{ x: s.slot, label: changes.join(", ") }];
  });
}

function slotPanels(d: SlotsDrawn): ChartFigure["panels"] {
  const slots = d.slots;
  const limited = (s: SlotRecord) => noExactPrice(s.status);
  // Slots without an exact price (40+ rounds) would flatten the rounds axis: mark them just above the rest instead.
  const cleared = [
    ...slots.filter((s) => !limited(s)).map((s) => s.rounds),
    ...d.second.rounds.filter((v) => v !== null),
  ];
  const limitMark = Math.max(1, ...cleared) + 1;
  return [
    {
      title: `Price p* per unit (${d.runTitle}) and the fee tau`,
      series: [
        { name: `p* (${d.run})`, values: slots.map((s) => s.prices[0] ?? null), color: BLUE, style: "line" },
        {
          name: "p* (reference solver)",
          values: slots.map((s) => s.reference.prices[0] ?? null),
          color: ORANGE,
          style: "points",
        },
        {
          name: "tau + p*",
          values: slots.map((s) => s.terms.perUnit + (s.prices[0] ?? 0)),
          color: PURPLE,
          style: "dashed",
        },
        { name: "tau", values: slots.map((s) => s.terms.perUnit), color: GREY, style: "dashed" },
      ],
      fromZero: true,
    },
    {
      title: "Welfare: efficiency Eff = sum(V - C) - tau sum x - g #active",
      series: [
        { name: `Eff (${d.run})`, values: slots.map((s) => s.efficiency), color: BLUE, style: "line" },
        { name: "optimum", values: slots.map((s) => s.optimum), color: ORANGE, style: "points" },
      ],
    },
    {
      title: "Agents present and active (x > 0)",
      series: [
        { name: "present", values: slots.map((s) => s.agents), color: GREY, style: "line" },
        {
          name: "active",
          values: slots.map((s) => Math.round(s.participation * s.agents)),
          color: GREEN,
          style: "line",
        },
      ],
      fromZero: true,
    },
    {
      title: "Rounds to clear each slot",
      series: [
        {
          name: d.run === "engine" ? "warm start" : d.run,
          values: slots.map((s) => (limited(s) ? null : s.rounds)),
          color: BLUE,
          style: "line",
        },
        { name: d.second.name, values: d.second.rounds, color: ORANGE, style: "dashed" },
        {
          name: "no exact price (stalled)",
          values: slots.map((s) => (limited(s) ? limitMark : null)),
          color: RED,
          style: "crosses",
        },
      ],
      fromZero: true,
    },
  ];
}
