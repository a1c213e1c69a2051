import {
  type AmendMessage,
  type ApproveMessage,
  appendLedgerCertificate,
  buildLedger,
  type Certificate,
  type Contract,
  canonicalJson,
  certificateDigest,
  certificateSchema,
  contractId,
  contractSchema,
  type Ledger,
  type LedgerEntry,
  type LedgerTerms,
  verifyLedger,
} from "@walras/protocol";
import type { Store } from "../store/store.ts";

interface StoredAmendment {
  readonly terms: Contract;
  readonly signatures: readonly (AmendMessage | ApproveMessage)[];
}

const AMENDMENTS_KEY = "amendments";

/** Where a stored row that cannot be read is reported (a pino logger fits). */
export interface LedgerBookLog {
  warn(fields: Record<string, unknown>, message: string): void;
}

/** The built ledger, kept until something changes it, and where each certificate is in it. */
interface Built {
  readonly contract: string;
  readonly entries: LedgerEntry[];
  readonly index: Map<string, number>;
  /** The chain's last certificate and the terms it ran under: where the next slot extends it. */
  tip: string | null;
  terms: LedgerTerms;
}

/**
 * A node's ledger (docs/protocol.md §12): the certificates it holds, on the chain that ends at
 * its latest, and the amendments that changed the terms, built on demand from the store. Entries
 * a peer sends (catch-up) are verified against what the node already holds before they are kept.
 */
export class LedgerBook {
  readonly #store: Store;
  readonly #contract: Contract;
  readonly #certificates = new Map<string, Certificate>();
  readonly #amendments = new Map<string, StoredAmendment>();
  /** Digests of certificates whose chain back to the first is held. */
  readonly #whole = new Set<string>();

  /**
   * Built on first use and then extended slot by slot: every sync `ledger` request and every
   * `GET /ledger` reads it, and building it anew each time made serving the ledger cost grow with
   * its length on every request.
   */
  #built: Built | null = null;

  constructor(store: Store, contract: Contract, log?: LedgerBookLog) {
    this.#store = store;
    this.#contract = contract;
    for (const row of store.certificates()) {
      // Skipped with a warning rather than fatal: any certificate can be fetched again from peers
      // and is kept only if it verifies, so the row is left on disk as it is until a verified
      // copy for its epoch replaces it, and the node is not kept off the market meanwhile.
      const where = { store: store.path, epoch: row.epoch };
      let json: unknown;
      try {
        json = JSON.parse(new TextDecoder().decode(row.bytes));
      } catch (err) {
        log?.warn(
          { ...where, error: (err as Error).message },
          "stored certificate is not JSON; skipped (catch-up will fetch it again)",
        );
        continue;
      }
      const parsed = certificateSchema.safeParse(json);
      if (parsed.success) this.#certificates.set(certificateDigest(parsed.data), parsed.data);
      else
        log?.warn(
          { ...where, error: parsed.error.issues[0]?.message, field: parsed.error.issues[0]?.path.join(".") },
          "stored certificate is not a valid certificate; skipped (catch-up will fetch it again)",
        );
    }
    const saved = (store.loadState(AMENDMENTS_KEY) ?? {}) as Record<string, StoredAmendment>;
    for (const [id, a] of Object.entries(saved)) {
      const terms = contractSchema.safeParse(a.terms);
      if (terms.success) this.#amendments.set(id, { terms: terms.data, signatures: a.signatures });
    }
  }

  /** A certificate assembled here or fetched: stored (one per epoch). Returns its digest. */
  addCertificate(cert: Certificate): string {
    const digest = certificateDigest(cert);
    const first = !this.#certificates.has(digest);
    // A certificate comes here again with each late commit: at 50 members a quorum of 34, then up
    // to 16 more, each write re-encoding ~12 KB. The first already proves the epoch: the store
    // keeps it, and then the complete one. Stored before it is held: a write that fails (a full
    // disk) leaves the book as it was, and the next signature's copy is "first" again.
    if (first || cert.signatures.length === cert.commit.members.length)
      this.#store.putCertificate(cert.commit.epoch, new TextEncoder().encode(canonicalJson(cert)));
    this.#certificates.set(digest, cert);
    this.#update(digest, cert, first);
    return digest;
  }

  /** The amendment that made the terms `id`, with its signatures. */
  addAmendment(id: string, amendment: StoredAmendment): void {
    if (this.#amendments.has(id)) return;
    // Stored before it is held, so a write that fails leaves the book as it was.
    this.#store.saveState(AMENDMENTS_KEY, { ...Object.fromEntries(this.#amendments), [id]: amendment });
    this.#amendments.set(id, amendment);
    // Certificates already built under these terms were charged without it: build again.
    this.#built = null;
  }

  /** The terms the amendment `id` made, when this node holds it. */
  amendedTerms(id: string): Contract | undefined {
    return this.#amendments.get(id)?.terms;
  }

  has(digest: string): boolean {
    return this.#certificates.has(digest);
  }

  /** The latest certificate held (highest epoch), the chain's end as this node knows it. */
  tip(): Certificate | null {
    let tip: Certificate | null = null;
    for (const c of this.#certificates.values()) if (!tip || c.commit.epoch > tip.commit.epoch) tip = c;
    return tip;
  }

  /**
   * The end of the unbroken chain from the market's first certificate: where catch-up continues.
   * Not the tip: a node back from a restart may assemble a later slot from gossiped commits
   * while the slot before it, certified while it was down, is still missing.
   */
  anchor(): Certificate | null {
    const byPrevious = new Map<string | null, Certificate>();
    for (const c of this.#certificates.values()) byPrevious.set(c.commit.previous, c);
    let end: Certificate | null = null;
    for (let c = byPrevious.get(null); c; c = byPrevious.get(certificateDigest(c))) end = c;
    return end;
  }

  /**
   * True when this node holds the certificate `digest` and every one before it. Asked on every
   * certificate update, so whole chains found are remembered (certificates are never dropped)
   * and each link is walked once.
   */
  holdsChainTo(digest: string): boolean {
    const walked: string[] = [];
    for (let d: string | null = digest; d !== null && !this.#whole.has(d); ) {
      const c = this.#certificates.get(d);
      if (!c) return false;
      walked.push(d);
      d = c.commit.previous;
    }
    for (const d of walked) this.#whole.add(d);
    return true;
  }

  /** The ledger, on the chain that ends at the tip. Do not hold it across an await: it grows. */
  ledger(): Ledger {
    const built = this.#build();
    return { contract: built.contract, entries: built.entries };
  }

  /** Where the certificate `digest` is in `ledger().entries`, or -1 when it is not on the chain. */
  indexOf(digest: string): number {
    return this.#build().index.get(digest) ?? -1;
  }

  #build(): Built {
    if (this.#built) return this.#built;
    const tip = this.tip();
    const tipDigest = tip ? certificateDigest(tip) : null;
    const ledger = buildLedger({
      contract: this.#contract,
      certificates: [...this.#certificates.values()],
      tip: tipDigest,
      amendments: this.#amendments,
    });
    const entries = [...ledger.entries];
    const index = new Map<string, number>();
    let terms: LedgerTerms = { terms: this.#contract, id: ledger.contract };
    for (const [i, e] of entries.entries()) {
      if (e.type === "amendment") terms = { terms: e.terms, id: contractId(e.terms) };
      else index.set(certificateDigest(e.certificate), i);
    }
    // The last certificate's terms are its commit's own, even when their amendment is not held.
    const last = tip && index.has(tipDigest as string) ? tip : null;
    if (last) terms = { terms: terms.terms, id: last.commit.terms ?? ledger.contract };
    this.#built = { contract: ledger.contract, entries, index, tip: tipDigest, terms };
    return this.#built;
  }

  /**
   * Keeps the built ledger in step with a certificate added: the next slot on the chain extends
   * it, a late commit for one already in it replaces that entry (its charges are the same), and
   * anything else (a gap filled, a slot out of order) has it built again when next asked.
   */
  #update(digest: string, cert: Certificate, first: boolean): void {
    const built = this.#built;
    if (!built) return;
    const at = built.index.get(digest);
    if (!first && at !== undefined) {
      const entry = built.entries[at];
      if (entry?.type === "certificate") built.entries[at] = { ...entry, certificate: cert };
      return;
    }
    if (first && cert.commit.previous !== null && cert.commit.previous === built.tip) {
      built.terms = appendLedgerCertificate(
        built.entries,
        built.terms,
        cert,
        built.contract,
        this.#amendments,
      );
      built.index.set(digest, built.entries.length - 1);
      built.tip = digest;
      return;
    }
    this.#built = null;
  }

  /**
   * Entries a peer sent. With no first certificate held they must form a whole ledger from the
   * start; otherwise they continue from the anchor (certificates already held are kept once).
   * Kept only if they verify; returns the error otherwise.
   */
  merge(entries: readonly LedgerEntry[]): { added: number } | { error: string } {
    const anchor = this.anchor();
    const mine = this.ledger();
    const terms = anchor ? this.#termsAt(mine, anchor) : this.#contract;
    const check = verifyLedger(
      { contract: mine.contract, entries },
      this.#contract,
      anchor ? { after: { certificate: anchor, terms } } : {},
    );
    if (!check.ok) return { error: check.error };
    let added = 0;
    for (const e of entries) {
      if (e.type === "amendment")
        this.addAmendment(contractId(e.terms), { terms: e.terms, signatures: e.signatures });
      else if (!this.has(certificateDigest(e.certificate))) {
        this.addCertificate(e.certificate);
        added++;
      }
    }
    return { added };
  }

  /** The terms in effect at `at`, read from the amendments `ledger` holds up to it. */
  #termsAt(ledger: Ledger, at: Certificate): Contract {
    let terms = this.#contract;
    for (const e of ledger.entries) {
      if (e.type === "amendment") terms = e.terms;
      else if (e.certificate === at) break;
    }
    return terms;
  }
}
