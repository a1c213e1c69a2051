import { z } from "zod";
import { type Charges, chargesAt } from "../economics/charges.ts";
import { canonicalJson } from "./canonical-json.ts";
import {
  type Certificate,
  certificateDigest,
  certificateSchema,
  quorumSize,
  verifyCertificate,
} from "./certificate.ts";
import { type Contract, contractId, contractSchema } from "./contract.ts";
import {
  type AmendMessage,
  type ApproveMessage,
  amendMessageSchema,
  approveMessageSchema,
} from "./messages.ts";
import { verifyMessage } from "./signing.ts";
import { amendmentProblem } from "./terms.ts";

/**
 * The ledger of a market (docs/protocol.md §12): its certificates in order, each naming the one
 * before (a hash chain), each with the charges it settles, and the amendments that changed the
 * terms, with the signatures that passed them. Anyone holding the contract can check it offline.
 */
const memberChargesSchema = z.strictObject({
  agent: z.string(),
  x: z.number(),
  resourcePayments: z.array(z.number()),
  perUnitFee: z.number(),
  fixedFee: z.number(),
  total: z.number(),
});
const chargesSchema = z.strictObject({
  members: z.array(memberChargesSchema),
  totals: z.strictObject({
    resourcePayments: z.array(z.number()),
    perUnitFees: z.number(),
    fixedFees: z.number(),
    total: z.number(),
  }),
});

export const ledgerEntrySchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("certificate"), certificate: certificateSchema, charges: chargesSchema }),
  z.strictObject({
    type: z.literal("amendment"),
    terms: contractSchema,
    /** The proposal (`amend`), then the approvals, as their signers signed them. */
    signatures: z.array(z.union([amendMessageSchema, approveMessageSchema])).min(1),
  }),
]);

export const ledgerSchema = z.strictObject({
  /** The market: the id of its original contract. */
  contract: z.string().regex(/^[0-9a-f]{64}$/, "must be 64 hex digits"),
  entries: z.array(ledgerEntrySchema),
});

export type LedgerEntry =
  | { readonly type: "certificate"; readonly certificate: Certificate; readonly charges: Charges }
  | {
      readonly type: "amendment";
      readonly terms: Contract;
      readonly signatures: readonly (AmendMessage | ApproveMessage)[];
    };
export interface Ledger {
  readonly contract: string;
  readonly entries: readonly LedgerEntry[];
}

export type LedgerCheck =
  | {
      readonly ok: true;
      readonly certificates: number;
      readonly amendments: number;
      readonly terms: Contract;
    }
  | { readonly ok: false; readonly index: number; readonly error: string };

/**
 * Builds the ledger from what a node holds: the certificates (any order; those not on the chain
 * that ends at `tip` are left out), and the amendments' signatures by the id of the terms they made.
 * It stops before the first certificate under terms whose amendment is not given: that
 * certificate's charges cannot be computed, and charged under the terms before they would be wrong.
 */
export function buildLedger(input: {
  readonly contract: Contract;
  readonly certificates: readonly Certificate[];
  readonly tip: string | null;
  readonly amendments: ReadonlyMap<
    string,
    { readonly terms: Contract; readonly signatures: readonly (AmendMessage | ApproveMessage)[] }
  >;
}): Ledger {
  const byDigest = new Map(input.certificates.map((c) => [certificateDigest(c) as string, c]));
  const chain: Certificate[] = [];
  for (let d = input.tip; d !== null; ) {
    const c = byDigest.get(d);
    if (!c) break; // a node that joined late holds only the chain's recent end
    chain.push(c);
    d = c.commit.previous;
  }
  // Walked from the tip back; unshift per link instead was quadratic (2.3 s at 100k certificates).
  chain.reverse();
  const marketId = contractId(input.contract);
  const entries: LedgerEntry[] = [];
  let at: LedgerTerms = { terms: input.contract, id: marketId };
  for (const c of chain) {
    const next = appendLedgerCertificate(entries, at, c, marketId, input.amendments);
    if (!next) break;
    at = next;
  }
  return { contract: marketId, entries };
}

/** The terms a ledger's last certificate was charged under, and their id. */
export interface LedgerTerms {
  readonly terms: Contract;
  readonly id: string;
}

/**
 * Appends certificate `c` to `entries` (a ledger whose last certificate ran under `at`): the
 * amendment that made its terms when they changed, then the certificate with its charges. Returns
 * the terms `c` ran under, or null with nothing appended when they changed and `amendments` lacks
 * the amendment that made them (the ledger cannot go on past `c` until it is held). Exported so
 * that a node can extend the ledger it holds by one slot instead of building it again.
 */
export function appendLedgerCertificate(
  entries: LedgerEntry[],
  at: LedgerTerms,
  c: Certificate,
  marketId: string,
  amendments: ReadonlyMap<
    string,
    { readonly terms: Contract; readonly signatures: readonly (AmendMessage | ApproveMessage)[] }
  >,
): LedgerTerms | null {
  let { terms, id } = at;
  const certTerms = c.commit.terms ?? marketId;
  if (certTerms !== id) {
    const a = amendments.get(certTerms);
    if (!a) return null;
    entries.push({ type: "amendment", terms: a.terms, signatures: a.signatures });
    terms = a.terms;
    id = certTerms;
  }
  entries.push({
    type: "certificate",
    certificate: c,
    charges: chargesAt(terms, c.commit.prices, c.commit.allocations),
  });
  return { terms, id };
}

/**
 * Checks a ledger offline against the market's contract: every certificate as `certificate verify`
 * does, every link (each certificate names the one before; the first names none, or the
 * certificate the ledger starts after), every charge recomputed from the certified prices and
 * allocations under the terms in effect, and every amendment (a valid change of the terms in effect,
 * signed by a quorum of the preceding certificate's members). Names the first bad entry.
 */
export function verifyLedger(
  ledger: Ledger,
  contract: Contract,
  options: { readonly after?: { readonly certificate: Certificate; readonly terms: Contract } } = {},
): LedgerCheck {
  const marketId = contractId(contract);
  if (ledger.contract !== marketId)
    return { ok: false, index: -1, error: `contract: the ledger is of ${ledger.contract}, not ${marketId}` };
  let terms = options.after?.terms ?? contract;
  let termsId: string = contractId(terms);
  let previous: Certificate | null = options.after?.certificate ?? null;
  let certificates = 0;
  let amendments = 0;
  for (const [index, entry] of ledger.entries.entries()) {
    const fail = (error: string): LedgerCheck => ({
      ok: false,
      index,
      error: `entry ${index} (${describe(entry)}): ${error}`,
    });
    if (entry.type === "certificate") {
      const c = entry.certificate;
      if (c.commit.contract !== marketId) return fail(`commit.contract is not this market (${marketId})`);
      const check = verifyCertificate(c, terms);
      if (!check.ok) return fail(check.error);
      const link = previous ? certificateDigest(previous) : null;
      if (c.commit.previous !== link)
        return fail(
          `commit.previous is ${c.commit.previous ?? "null"}, the certificate before is ${link ?? "none"}`,
        );
      if (previous && c.commit.epoch <= previous.commit.epoch)
        return fail(`epoch ${c.commit.epoch} does not follow epoch ${previous.commit.epoch}`);
      const due = chargesAt(terms, c.commit.prices, c.commit.allocations);
      const bad = firstChargeDifference(entry.charges, due);
      if (bad) return fail(`charges: ${bad}`);
      previous = c;
      certificates++;
    } else {
      if (!previous)
        return fail(
          "an amendment needs a certificate before it (its signers are that certificate's members)",
        );
      const problem = amendmentProblem(terms, termsId as never, entry.terms);
      if (problem) return fail(problem);
      const id = contractId(entry.terms);
      const members = new Set<string>(previous.commit.members);
      const signers = new Set<string>();
      for (const [i, m] of entry.signatures.entries()) {
        const about = m.kind === "amend" ? contractId(m.terms) : m.amendment;
        if (about !== id) return fail(`signatures[${i}]: signs another amendment`);
        if (m.contract !== marketId) return fail(`signatures[${i}]: of another market`);
        if (!members.has(m.agent))
          return fail(`signatures[${i}]: ${m.agent} is not a member of epoch ${previous.commit.epoch}`);
        if (!verifyMessage(m)) return fail(`signatures[${i}]: does not verify under ${m.agent}`);
        signers.add(m.agent);
      }
      const quorum = quorumSize(terms, members.size);
      if (signers.size < quorum)
        return fail(`${signers.size} of ${members.size} members signed, quorum is ${quorum}`);
      terms = entry.terms;
      termsId = id;
      amendments++;
    }
  }
  return { ok: true, certificates, amendments, terms };
}

function describe(entry: LedgerEntry): string {
  return entry.type === "certificate"
    ? `certificate, epoch ${entry.certificate.commit.epoch}`
    : `amendment ${contractId(entry.terms).slice(0, 12)}…`;
}

/** The first figure of `stated` that is not what the certified numbers give, or null. */
function firstChargeDifference(stated: Charges, due: Charges): string | null {
  if (stated.members.length !== due.members.length)
    return `${stated.members.length} members, the certificate has ${due.members.length}`;
  for (const [i, m] of stated.members.entries()) {
    const d = due.members[i];
    if (canonicalJson(m) !== canonicalJson(d))
      return `${m.agent}: ${canonicalJson(m)} is not ${canonicalJson(d)} recomputed from the certificate`;
  }
  if (canonicalJson(stated.totals) !== canonicalJson(due.totals))
    return `totals: ${canonicalJson(stated.totals)} is not ${canonicalJson(due.totals)} recomputed`;
  return null;
}
