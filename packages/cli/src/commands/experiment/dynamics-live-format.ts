import {
  type LiveDynamics,
  type LiveRoundsSummary,
  noExactPrice,
  type ResolvedShockSchedule,
} from "@walras/protocol";
import { formatNumber, textTable } from "../../text-table.ts";
import { welfareCells } from "./dynamics-format.ts";
import { shockLabel } from "./dynamics-shock-label.ts";

/** The settings of a live run beside the schedule's. */
export interface LiveSettings {
  readonly nodes: number;
  readonly periodMs: number;
  /** The epoch whose certificate ended each schedule slot. */
  readonly scheduleEpochs: readonly number[];
}

/** The schedule slot a certified epoch belongs to: the first whose last epoch it does not pass. */
export function scheduleSlotOf(epoch: number, scheduleEpochs: readonly number[]): number {
  const k = scheduleEpochs.findIndex((e) => epoch <= e);
  return k < 0 ? scheduleEpochs.length - 1 : k;
}

const rounds = (s: LiveRoundsSummary) =>
  s.slots === 0
    ? "none"
    : `${s.slots} slots: network ${formatNumber(s.network.mean, 3)} (max ${s.network.max}), engine ${formatNumber(s.engine.mean, 3)} (max ${s.engine.max})`;

/** A live run as text: what happened, the rounds, the check against the reference, one row per certified slot. */
export function formatLiveDynamics(
  o: ResolvedShockSchedule,
  settings: LiveSettings,
  r: LiveDynamics,
): string {
  const churn = o.shock === "churn";
  const lines = [
    `dynamics on a live network: ${shockLabel(o)}`,
    `${settings.nodes} node processes on loopback, a slot every ${settings.periodMs} ms (contract period); ` +
      `${o.slots} schedule slots, m = ${o.capacity}, tau = ${o.tau}, g = ${o.g}, ${o.rule} rule, drift ±${100 * o.drift}%, seed ${o.seed}`,
    `${r.slots.length} certified slots read from the ledger for ${o.slots} schedule slots (a slot on the way to the next schedule slot is kept: ` +
      "a period that ended before the boundary's changes, or a leave and a join decided apart)",
    `rounds per slot, quiet (terms and members unchanged): ${rounds(r.quiet)}`,
    `rounds per slot, changed (new terms or members at the boundary): ${rounds(r.changed)}`,
    `certified as approximate (no exact clearing price, settled by the stall rule): ${r.approximate} slots`,
    `largest |p* - reference p*| where the reference clears exactly: ${r.maxPriceDeviation.toExponential(2)}`,
    "",
    textTable(
      [
        "slot",
        "epoch",
        "schedule slot",
        "tau",
        "m",
        churn ? "agents (+in -out)" : "agents",
        "p*",
        "reference p*",
        "|p* - ref|",
        "rounds network",
        "engine",
        "Eff",
        "optimum",
        "gap",
        "active",
        "gini",
      ],
      r.slots.map((s) => [
        String(s.slot),
        String(s.epoch),
        String(scheduleSlotOf(s.epoch, settings.scheduleEpochs)),
        String(s.terms.perUnit),
        String(s.terms.capacities[0]),
        churn ? `${s.agents} (+${s.joined} -${s.left})` : String(s.agents),
        formatNumber(s.prices[0] ?? 0, 5),
        formatNumber(s.reference.prices[0] ?? 0, 5),
        s.reference.priceDeviation.toExponential(1),
        s.status === "approximate" ? `${s.rounds}~` : String(s.rounds),
        noExactPrice(s.engine.status) ? `${s.engine.rounds}*` : String(s.engine.rounds),
        ...welfareCells(s),
      ]),
    ),
    "~ certified as approximate (stall rule); * the engine found no exact clearing price (stall rule or round limit)",
  ];
  return `${lines.join("\n")}\n`;
}
