import type { PaperExperiment, Summary } from "@walras/protocol";
import { formatNumber, textTable } from "../../text-table.ts";

const NAMES: Record<string, string> = {
  fcfs: "no enforcement (FCFS)",
  proportional: "proportional rationing",
  flat: "flat posted price",
  contract: "proposed contract",
};

const pm = (s: Summary, digits = 4) => `${formatNumber(s.mean, digits)} ± ${formatNumber(s.sd, 3)}`;
const percent = (s: Summary) => `${(100 * s.mean).toFixed(1)}%`;

export function formatExperiment(r: PaperExperiment): string {
  const o = r.options;
  const lines = [
    `paper experiment: ${o.replications} replications, seed ${o.seed}, n = ${o.agents}, m = ${o.capacity}, g = ${o.g}, ${o.rule} rule`,
    `capacity binds at the contract equilibrium in ${(100 * r.binding).toFixed(1)}% of replications (tau = ${o.tau}); ` +
      `price-rule rounds ${pm(r.rounds, 3)}; ${r.approximate} without an exact clearing price (stopped at their best round; round limit ${o.maxRounds})`,
    `flat contract's posted price (from the type distribution): ${formatNumber(r.postedPrice)}`,
    "",
    `mechanisms (tau = ${o.tau}), mean ± sd:`,
    textTable(
      ["mechanism", "efficiency", "per agent", "gini", "jain", "participation", "welfare gap", "envious"],
      r.mechanisms.map((m) => [
        NAMES[m.mechanism] ?? m.mechanism,
        pm(m.efficiency),
        pm(m.efficiencyPerAgent),
        pm(m.gini, 3),
        formatNumber(m.jain.mean, 3),
        percent(m.participation),
        `${(100 * m.welfareGap.mean).toFixed(2)}%`,
        formatNumber(m.envy.mean, 3),
      ]),
    ),
    "",
    "fee sweep (proposed contract), mean ± sd:",
    textTable(
      ["tau", "efficiency", "1 - gini", "participation", "price p*", "binds"],
      r.feeSweep.map((f) => [
        String(f.tau),
        pm(f.efficiency),
        pm(f.equality, 3),
        percent(f.participation),
        pm(f.price, 3),
        `${(100 * f.binding).toFixed(0)}%`,
      ]),
    ),
  ];
  return `${lines.join("\n")}\n`;
}

/** Long format, one figure per line: section,label,metric,mean,sd. */
export function experimentCsv(r: PaperExperiment): string {
  const rows: string[] = ["section,label,metric,mean,sd"];
  const add = (section: string, label: string, metric: string, s: Summary) =>
    rows.push(`${section},${label},${metric},${s.mean},${s.sd}`);
  for (const m of r.mechanisms) {
    add("mechanism", m.mechanism, "efficiency", m.efficiency);
    add("mechanism", m.mechanism, "efficiency_per_agent", m.efficiencyPerAgent);
    add("mechanism", m.mechanism, "gini", m.gini);
    add("mechanism", m.mechanism, "jain", m.jain);
    add("mechanism", m.mechanism, "participation", m.participation);
    add("mechanism", m.mechanism, "welfare_gap", m.welfareGap);
    add("mechanism", m.mechanism, "envy", m.envy);
  }
  for (const f of r.feeSweep) {
    const label = `tau=${f.tau}`;
    add("fee_sweep", label, "efficiency", f.efficiency);
    add("fee_sweep", label, "one_minus_gini", f.equality);
    add("fee_sweep", label, "participation", f.participation);
    add("fee_sweep", label, "price", f.price);
    add("fee_sweep", label, "binding", { mean: f.binding, sd: 0 });
  }
  return `${rows.join("\n")}\n`;
}
