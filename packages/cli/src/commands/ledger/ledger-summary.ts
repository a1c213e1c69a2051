import { type Contract, contractId, type Ledger } from "@walras/protocol";
import { describeTerms, termsChanges } from "../../describe-terms.ts";
import { formatNumber, textTable } from "../../text-table.ts";

/** One certified slot of a ledger, as `ledger verify` reports it. */
export interface SlotLine {
  readonly epoch: number;
  readonly round: number;
  readonly members: number;
  readonly signers: number;
  readonly prices: Record<string, number>;
  readonly charges: number;
  readonly approximate: boolean;
}

/** An amendment of a ledger: its id (of the terms it made), what it changed, after which slot. */
export interface Amendment {
  readonly id: string;
  readonly change: string;
  readonly signers: number;
  /** The epoch of the certificate it stands after: the slots from the next one run under it. */
  readonly afterEpoch: number | null;
}

export interface LedgerSummary {
  readonly contractId: string;
  readonly certificates: number;
  readonly amendments: readonly Amendment[];
  readonly slots: readonly SlotLine[];
  /** The terms in effect after the last entry, and their id. */
  readonly terms: Contract;
  readonly termsId: string;
  /** The charges of every certified slot added up. */
  readonly totals: {
    readonly resourcePayments: Record<string, number>;
    readonly perUnitFees: number;
    readonly fixedFees: number;
    readonly total: number;
  };
}

/** What a verified ledger holds, walked in order (each slot priced under the terms of its time). */
export function summarizeLedger(ledger: Ledger, contract: Contract): LedgerSummary {
  let terms = contract;
  const amendments: Amendment[] = [];
  const slots: SlotLine[] = [];
  const ids = contract.resources.map((r) => r.id);
  const byResource = (v: readonly number[]) => Object.fromEntries(ids.map((id, r) => [id, v[r] ?? 0]));
  const payments = ids.map(() => 0);
  let perUnitFees = 0;
  let fixedFees = 0;
  let total = 0;
  for (const entry of ledger.entries) {
    if (entry.type === "amendment") {
      const signers = new Set(entry.signatures.map((s) => s.agent)).size;
      amendments.push({
        id: contractId(entry.terms),
        change: termsChanges(terms, entry.terms),
        signers,
        afterEpoch: slots.at(-1)?.epoch ?? null,
      });
      terms = entry.terms;
      continue;
    }
    const c = entry.certificate.commit;
    const t = entry.charges.totals;
    t.resourcePayments.forEach((p, r) => {
      payments[r] = (payments[r] ?? 0) + p;
    });
    perUnitFees += t.perUnitFees;
    fixedFees += t.fixedFees;
    total += t.total;
    slots.push({
      epoch: c.epoch,
      round: c.round,
      members: c.members.length,
      signers: entry.certificate.signatures.length,
      prices: byResource(c.prices),
      charges: t.total,
      approximate: c.approximate === true,
    });
  }
  return {
    contractId: contractId(contract),
    certificates: slots.length,
    amendments,
    slots,
    terms,
    termsId: contractId(terms),
    totals: { resourcePayments: byResource(payments), perUnitFees, fixedFees, total },
  };
}

/** Slots listed at most; a longer ledger shows its last ones (--json lists all). */
const SHOWN_SLOTS = 20;

export function formatLedgerSummary(s: LedgerSummary, contract: Contract): string {
  const shown = s.slots.slice(-SHOWN_SLOTS);
  const epochs = s.slots.length > 0 ? `, epochs ${s.slots[0]?.epoch}–${s.slots.at(-1)?.epoch}` : "";
  const lines = [
    `OK: ${count(s.certificates, "certificate")}${epochs}, ${count(s.amendments.length, "amendment")}: every signature, link and charge checks`,
    `market ${contract.name} (${s.contractId})`,
  ];
  if (shown.length > 0) {
    if (shown.length < s.slots.length)
      lines.push(`(the last ${shown.length} slots of ${s.slots.length}; --json lists all)`);
    const amendmentRow = (a: Amendment) => [
      `amendment ${a.id.slice(0, 8)}…`,
      "",
      `${a.signers} signed`,
      a.change,
      "",
    ];
    // An amendment stands right after the slot it names: its row goes before the next slot's.
    const after = (epoch: number | null) =>
      s.amendments.filter((a) => a.afterEpoch === epoch).map(amendmentRow);
    const firstShown = s.slots.length - shown.length;
    const rows = shown.flatMap((slot, i) => [
      ...after(s.slots[firstShown + i - 1]?.epoch ?? Number.NaN),
      [
        `epoch ${slot.epoch}`,
        String(slot.round),
        `${slot.signers}/${slot.members}`,
        Object.entries(slot.prices)
          .map(([id, p]) => `${id}=${formatNumber(p)}`)
          .join(" ") + (slot.approximate ? " (approx.)" : ""),
        formatNumber(slot.charges),
      ],
    ]);
    const pending = after(s.slots.at(-1)?.epoch ?? null);
    lines.push("", textTable(["entry", "round", "signed", "prices", "charges"], [...rows, ...pending]), "");
  }
  lines.push(
    `terms at the end ${s.termsId === s.contractId ? "(the contract's own)" : s.termsId}: ${describeTerms(s.terms)}`,
    `charges over the ledger: resource payments ${Object.entries(s.totals.resourcePayments)
      .map(([id, p]) => `${id}=${formatNumber(p)}`)
      .join(" ")}, per-unit fees ${formatNumber(s.totals.perUnitFees)}, fixed fees ${formatNumber(
      s.totals.fixedFees,
    )}, total ${formatNumber(s.totals.total)}`,
  );
  return lines.join("\n");
}

export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
