import type { DynamicsExperiment } from "@walras/protocol";
import type { ChartFigure } from "../../chart/svg-panels.ts";
import { shockLabel, shockMarkers } from "./dynamics-shock-label.ts";

const BLUE = "#1f5fa8";
const ORANGE = "#e07b00";
const GREY = "#777777";
const GREEN = "#2e8b3a";
const PURPLE = "#7a3fa0";
const RED = "#cc3333";

/**
 * The dynamics experiment as four panels over slots: the price path beside the reference solver's
 * and the fee, welfare beside the optimum, agents present and active, and the rounds each slot took
 * warm- and cold-started. Only the first resource is drawn (the paper's economies have one).
 */
export function dynamicsFigure(r: DynamicsExperiment): ChartFigure {
  const o = r.options;
  const slots = r.slots;
  const exact = (v: number, s: (typeof slots)[number]) => (s.status === "round-limit" ? null : v);
  // Slots at the round limit would flatten the rounds axis: mark them just above the rest instead.
  const cleared = slots.flatMap((s) => [
    ...(s.status === "round-limit" ? [] : [s.rounds]),
    ...(s.cold.status === "round-limit" ? [] : [s.cold.rounds]),
  ]);
  const limitMark = Math.max(1, ...cleared) + 1;
  return {
    title: `Dynamics: ${shockLabel(o)}`,
    subtitle:
      `n = ${o.agents}${o.shock === "churn" ? " on average" : ""}, m = ${o.capacity}, tau = ${o.tau}, g = ${o.g}, ` +
      `${o.rule} rule, valuation drift ±${100 * o.drift}% per slot, seed ${o.seed}`,
    xLabel: "slot",
    x: slots.map((s) => s.slot),
    markers: shockMarkers(o),
    panels: [
      {
        title: "Price p* per unit (network engine, warm start) and the fee tau",
        series: [
          { name: "p* (engine)", values: slots.map((s) => s.prices[0] ?? null), color: BLUE, style: "line" },
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
          { name: "Eff (engine)", values: slots.map((s) => s.efficiency), color: BLUE, style: "line" },
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
          { name: "warm start", values: slots.map((s) => exact(s.rounds, s)), color: BLUE, style: "line" },
          {
            name: "cold start",
            values: slots.map((s) => (s.cold.status === "round-limit" ? null : s.cold.rounds)),
            color: ORANGE,
            style: "dashed",
          },
          {
            name: "no exact price (round limit)",
            values: slots.map((s) => (s.status === "round-limit" ? limitMark : null)),
            color: RED,
            style: "crosses",
          },
        ],
        fromZero: true,
      },
    ],
  };
}
