import { formatNumber, textTable } from "../../text-table.ts";
import type { SimulationReport } from "./report.ts";

const STATUS: Record<SimulationReport["status"], string> = {
  converged: "converged",
  "not-binding": "converged, capacity does not bind (all prices 0)",
  "round-limit": "did not converge (round limit)",
  stalled: "did not converge (stalled: best round reported)",
};

export function formatSimulationReport(r: SimulationReport): string {
  const resources = Object.keys(r.prices);
  const lines = [
    `${r.source}: ${STATUS[r.status]} after ${r.rounds} round${r.rounds === 1 ? "" : "s"} (${r.rule} rule${r.newtonModel ? `, ${r.newtonModel} model` : ""})`,
    ...(r.note ? [`note: ${r.note}`] : []),
    "",
    textTable(
      ["resource", "price", "supply", "capacity", "reference price"],
      resources.map((id) => [
        id,
        formatNumber(r.prices[id] ?? 0),
        formatNumber(r.supply[id] ?? 0),
        formatNumber(r.capacity[id] ?? 0),
        formatNumber(r.reference.prices[id] ?? 0),
      ]),
    ),
    "",
    textTable(
      ["agent", "x", "reference x"],
      Object.entries(r.allocations).map(([id, x]) => [
        id,
        formatNumber(x),
        formatNumber(r.reference.allocations[id] ?? 0),
      ]),
    ),
    "",
    textTable(
      ["metric", "value"],
      [
        ["efficiency", formatNumber(r.metrics.efficiency)],
        ["welfare optimum", formatOptional(r.metrics.optimum)],
        ["welfare gap (relative)", formatOptional(r.metrics.relativeWelfareGap)],
        ["gini", formatNumber(r.metrics.gini)],
        ["jain", formatNumber(r.metrics.jain)],
        ["participation", formatNumber(r.metrics.participation)],
        ["envious agents", String(r.metrics.envy)],
        ["residual", formatNumber(r.metrics.residual)],
      ],
    ),
    "",
    `reference solver: ${r.reference.status}; max relative difference: prices ${formatNumber(
      r.reference.maxRelativeDifference.prices,
      3,
    )}, allocations ${formatNumber(r.reference.maxRelativeDifference.allocations, 3)}`,
  ];
  return `${lines.join("\n")}\n`;
}

function formatOptional(x: number | null): string {
  return x === null ? "-" : formatNumber(x);
}
