import type { AgentProfile, Certificate, Scenario } from "@walras/protocol";
import { describePriceRule } from "../../describe-price-rule.ts";
import { describeCost, describeValuation } from "../../describe-profile.ts";
import { formatNumber, textTable } from "../../text-table.ts";
import type { SlotSeen } from "./progress.ts";
import type { RebidPlan } from "./rebid.ts";
import type { ReferenceCheck } from "./reference-check.ts";
import type { Devnet, DevnetNode } from "./start-devnet.ts";

export interface Timing {
  readonly startupSeconds: number;
  readonly toCertificateSeconds: number;
  /** With --rebid: from the new bid to the certificate of the slot it opened. */
  readonly rebidToCertificateSeconds?: number;
}

/** What a devnet run ends with: the last certificate, checked against the reference on the bids in force. */
export interface DevnetResult {
  readonly certificate: Certificate;
  readonly check: ReferenceCheck;
  readonly timing: Timing;
  /** Each agent's bid at the end, by label (--rebid changed one). */
  readonly profiles: ReadonlyMap<string, AgentProfile>;
  readonly slots: readonly SlotSeen[];
  readonly rebid: RebidPlan | null;
}

export function formatHeader(scenario: Scenario, id: string): string {
  const c = scenario.contract;
  const resources = c.resources.map((r) => `${r.id} (capacity ${formatNumber(r.capacity)})`).join(", ");
  return [
    `walras devnet: ${scenario.agents.length} nodes, contract "${c.name}"`,
    `  contract id ${id}`,
    `  resources ${resources}; fee ${formatNumber(c.fees.perUnit)}/unit; ${describePriceRule(c.priceRule)} price rule`,
    "starting node processes ...",
  ].join("\n");
}

export function formatNodes(devnet: Devnet, seconds: number): string {
  return [
    `${devnet.nodes.length} nodes up in ${seconds.toFixed(1)} s (data and logs in ${devnet.root})`,
    leftAligned(
      ["node", "peer id", "status API"],
      devnet.nodes.map((n) => [n.label, n.peerId, n.httpUrl]),
    ),
    `dashboard: ${dashboardUrl(devnet)}  (open it in a browser; every node serves one at /)`,
    "",
  ].join("\n");
}

/** The first node's live web dashboard. */
export function dashboardUrl(devnet: Devnet): string {
  return `${devnet.nodes[0]?.httpUrl ?? ""}/`;
}

export function formatResult(devnet: Devnet, result: DevnetResult): string {
  const { certificate, check, timing } = result;
  const profile = (n: DevnetNode) => result.profiles.get(n.label) ?? n.profile;
  const since =
    result.rebid && timing.rebidToCertificateSeconds !== undefined
      ? `${timing.rebidToCertificateSeconds.toFixed(2)} s after ${result.rebid.label}'s new bid`
      : `${timing.toCertificateSeconds.toFixed(2)} s from all nodes up`;
  const c = certificate.commit;
  const contract = devnet.contract;
  const refX = new Map(check.reference.allocations.map((a) => [a.agent as string, a.x]));
  const x = new Map(c.allocations.map((a) => [a.agent, a.x]));
  const m = check.metrics;
  return [
    "",
    `certified equilibrium: epoch ${c.epoch}, round ${c.round}, ${certificate.signatures.length}/${c.members.length} signatures; ${since}`,
    "",
    textTable(
      ["resource", "price", "reference", "supply", "capacity"],
      contract.resources.map((r, i) => [
        r.id,
        formatNumber(c.prices[i] ?? 0),
        formatNumber(check.reference.prices[i] ?? 0),
        formatNumber(m.supply[i] ?? 0),
        formatNumber(r.capacity),
      ]),
    ),
    "",
    textTable(
      ["agent", "peer id", "valuation", "cost", "x", "reference x"],
      devnet.nodes.map((n) => [
        n.label,
        `…${n.peerId.slice(-10)}`,
        describeValuation(profile(n).valuation),
        describeCost(profile(n).cost),
        x.has(n.peerId) ? formatNumber(x.get(n.peerId) ?? 0) : "-",
        refX.has(n.peerId) ? formatNumber(refX.get(n.peerId) ?? 0) : "-",
      ]),
    ),
    "",
    `efficiency ${formatNumber(m.efficiency)} (welfare optimum ${m.optimum === null ? "-" : formatNumber(m.optimum)})   gini ${formatNumber(
      m.gini,
      3,
    )}   jain ${formatNumber(m.jain, 3)}   participation ${Math.round(m.participation * 100)}%   envious agents ${m.envy}`,
    `reference solver (${check.reference.status}): max relative difference prices ${formatNumber(
      check.maxRelativeDifference.prices,
      3,
    )}, allocations ${formatNumber(check.maxRelativeDifference.allocations, 3)}`,
    `certificate: ${check.verification.ok ? `verifies (${check.verification.signers} signers, quorum ${check.verification.quorum})` : `does NOT verify: ${check.verification.error}`}`,
    check.pass ? "PASS" : `FAIL: ${check.failure}`,
  ].join("\n");
}

export function formatJoinHint(devnet: Devnet): string {
  const first = devnet.nodes[0];
  return [
    "",
    "the network keeps running (--keep); Ctrl-C stops every node.",
    `  bootstrap  ${devnet.bootstrap}`,
    `  contract   ${devnet.contractFile}`,
    "join it from another terminal:",
    "  walras agent create --valuation log:alpha=12 --cost linear:beta=1.5 --out me.json",
    `  walras testnet join ${devnet.bootstrap} --agent me.json --data-dir ./me`,
    `watch it:  ${dashboardUrl(devnet)} in a browser, or walras watch --node ${first?.httpUrl ?? ""}`,
    "",
  ].join("\n");
}

export function devnetJson(devnet: Devnet, result: DevnetResult) {
  const { certificate, check, timing } = result;
  const c = certificate.commit;
  const resources = devnet.contract.resources.map((r) => r.id);
  const byResource = (v: readonly number[]) => Object.fromEntries(resources.map((id, i) => [id, v[i] ?? 0]));
  const x = new Map(c.allocations.map((a) => [a.agent, a.x]));
  const refX = new Map(check.reference.allocations.map((a) => [a.agent as string, a.x]));
  return {
    pass: check.pass,
    ...(check.failure ? { failure: check.failure } : {}),
    contractId: c.contract,
    epoch: c.epoch,
    round: c.round,
    signers: certificate.signatures.length,
    timing,
    dashboard: dashboardUrl(devnet),
    prices: byResource(c.prices),
    slots: result.slots,
    ...(result.rebid
      ? {
          rebid: {
            agent: result.rebid.label,
            peerId: devnet.nodes.find((n) => n.label === result.rebid?.label)?.peerId ?? null,
            valuation: result.rebid.after.valuation,
          },
        }
      : {}),
    nodes: devnet.nodes.map((n) => ({
      label: n.label,
      peerId: n.peerId,
      httpUrl: n.httpUrl,
      multiaddr: n.multiaddr,
      profile: result.profiles.get(n.label) ?? n.profile,
      x: x.get(n.peerId) ?? null,
      referenceX: refX.get(n.peerId) ?? null,
    })),
    metrics: check.metrics,
    reference: { status: check.reference.status, prices: byResource(check.reference.prices) },
    maxRelativeDifference: check.maxRelativeDifference,
  };
}

/** A table of names and addresses: every column left-aligned. */
function leftAligned(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, c) => cell.padEnd(widths[c] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}
