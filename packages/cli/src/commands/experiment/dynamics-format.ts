import { type DynamicsExperiment, noExactPrice, type RoundsSummary, type SlotRecord } from "@walras/protocol";
import { formatNumber, textTable } from "../../text-table.ts";
import { shockLabel } from "./dynamics-shock-label.ts";

const rounds = (s: RoundsSummary) =>
  s.slots === 0
    ? "none"
    : `${s.slots} slots: warm ${formatNumber(s.warm.mean, 3)} (max ${s.warm.max}), cold ${formatNumber(s.cold.mean, 3)} (max ${s.cold.max})`;

/** "-0.00%" says less than "0.00%": a gap of -1e-12 is a rounding error, not a sign. */
export function percent(x: number, digits: number): string {
  const text = (100 * x).toFixed(digits);
  return `${Number(text) === 0 ? (0).toFixed(digits) : text}%`;
}

/** The experiment as text: what happened, the rounds summary, and one row per slot. */
export function formatDynamics(r: DynamicsExperiment): string {
  const o = r.options;
  const churn = o.shock === "churn";
  const lines = [
    `dynamics: ${shockLabel(o)}`,
    `${o.slots} slots, n = ${o.agents}, m = ${o.capacity}, tau = ${o.tau}, g = ${o.g}, ${o.rule} rule, drift ±${100 * o.drift}%, seed ${o.seed}`,
    `rounds per slot, quiet (terms and members unchanged): ${rounds(r.quiet)}`,
    `rounds per slot, changed (a shock or churn at the boundary): ${rounds(r.changed)}`,
    `no exact clearing price (stalled, or the round limit ${o.maxRounds}): warm ${r.noExactPrice.warm}, cold ${r.noExactPrice.cold} slots; of them, the reference clears exactly: warm ${r.missedExactPrice.warm}, cold ${r.missedExactPrice.cold}`,
    `largest |p* - reference p*| where the reference clears exactly: ${r.maxPriceDeviation.toExponential(2)}`,
    "",
    textTable(
      [
        "slot",
        "tau",
        "m",
        churn ? "agents (+in -out)" : "agents",
        "p*",
        "reference p*",
        "rounds warm",
        "cold",
        "Eff",
        "optimum",
        "gap",
        "active",
        "gini",
      ],
      r.slots.map((s) => [
        String(s.slot),
        String(s.terms.perUnit),
        String(s.terms.capacities[0]),
        churn ? `${s.agents} (+${s.joined} -${s.left})` : String(s.agents),
        formatNumber(s.prices[0] ?? 0, 5),
        formatNumber(s.reference.prices[0] ?? 0, 5),
        noExactPrice(s.status) ? `${s.rounds}*` : String(s.rounds),
        noExactPrice(s.cold.status) ? `${s.cold.rounds}*` : String(s.cold.rounds),
        ...welfareCells(s),
      ]),
    ),
    "* no exact clearing price (a fixed fee g > 0 makes demand jump): the stall rule (or the round limit) ended the slot on its best round",
  ];
  return `${lines.join("\n")}\n`;
}

/** A slot's welfare columns, as the engine and live tables print them. */
export function welfareCells(s: SlotRecord): string[] {
  return [
    formatNumber(s.efficiency, 5),
    formatNumber(s.optimum, 5),
    percent(s.relativeWelfareGap, 2),
    percent(s.participation, 0),
    formatNumber(s.gini, 3),
  ];
}
