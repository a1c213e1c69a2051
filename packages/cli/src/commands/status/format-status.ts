import type { NodeStatus } from "@walras/node";
import { printable } from "../../printable.ts";
import { formatNumber } from "../../text-table.ts";

/** One node's state for people: what `walras status` prints and `walras watch` redraws. */
export function formatStatus(s: NodeStatus): string {
  const role =
    s.role === "observer" ? "observer (no agent)" : s.member ? "agent, member" : "agent, not yet a member";
  const rows: string[][] = [
    ["node", s.peerId],
    ["role", role],
    ["contract", `${s.contractName} (${s.contractId.slice(0, 16)}…)`],
    ["status", s.status],
    ["epoch / round", `${s.epoch ?? "-"} / ${s.round ?? "-"}`],
    ["prices", formatPrices(s.prices)],
    ["residual", s.residual === null ? "-" : formatNumber(s.residual, 3)],
    [
      "agreement",
      s.agreement
        ? `${s.agreement.matching}/${s.agreement.received} demands of the round answer our prices`
        : "-",
    ],
    ["members", String(s.members.length)],
    ["peers", `${s.peers} connected, ${s.topicPeers} on the demand topic`],
  ];
  if (s.role === "agent") rows.push(["allocation", s.allocation === null ? "-" : formatNumber(s.allocation)]);
  if (s.pendingJoins.length > 0)
    rows.push(["joining", `${s.pendingJoins.length} waiting for the next epoch`]);
  if (s.decision) rows.push(["next epoch", `${s.decision.epoch} being decided (view ${s.decision.view})`]);
  const c = s.certificate;
  rows.push([
    "certificate",
    c
      ? `epoch ${c.epoch}, round ${c.round}, ${c.signers}/${c.members.length} signed, ${c.digest.slice(0, 16)}…`
      : "none yet",
  ]);
  if (s.equivocations.length > 0) rows.push(["equivocations", String(s.equivocations.length)]);
  const width = Math.max(...rows.map((r) => (r[0] as string).length));
  // Every value came from the node over HTTP: none may reach the terminal as control codes.
  return rows.map(([k, v]) => `${(k as string).padEnd(width)}  ${printable(v as string)}`).join("\n");
}

export function formatPrices(prices: Record<string, number>): string {
  return Object.entries(prices)
    .map(([id, p]) => `${printable(id)}=${formatNumber(p)}`)
    .join("  ");
}
