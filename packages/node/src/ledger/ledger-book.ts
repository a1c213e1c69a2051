import {
  type AmendMessage,
  type ApproveMessage,
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
  verifyLedger,
} from "@walras/protocol";
import type { Store } from "../store/store.ts";

interface StoredAmendment {
  readonly terms: Contract;
  readonly signatures: readonly (AmendMessage | ApproveMessage)[];
}

const AMENDMENTS_KEY = "amendments";

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

  constructor(store: Store, contract: Contract) {
    this.#store = store;
    this.#contract = contract;
    for (const row of store.certificates()) {
      const parsed = certificateSchema.safeParse(JSON.parse(new TextDecoder().decode(row.bytes)));
      if (parsed.success) this.#certificates.set(certificateDigest(parsed.data), parsed.data);
    }
    const saved = (store.loadState(AMENDMENTS_KEY) ?? {}) as Record<string, StoredAmendment>;
    for (const [id, a] of Object.entries(saved)) {
      const terms = contractSchema.safeParse(a.terms);
      if (terms.success) this.#amendments.set(id, { terms: terms.data, signatures: a.signatures });
    }
  }

  /** A certificate assembled here or fetched: stored (one per epoch). */
  addCertificate(cert: Certificate): void {
    this.#certificates.set(certificateDigest(cert), cert);
    this.#store.putCertificate(cert.commit.epoch, new TextEncoder().encode(canonicalJson(cert)));
  }

  /** The amendment that made the terms `id`, with its signatures. */
  addAmendment(id: string, amendment: StoredAmendment): void {
    if (this.#amendments.has(id)) return;
    this.#amendments.set(id, amendment);
    this.#store.saveState(AMENDMENTS_KEY, Object.fromEntries(this.#amendments));
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

  ledger(): Ledger {
    const tip = this.tip();
    return buildLedger({
      contract: this.#contract,
      certificates: [...this.#certificates.values()],
      tip: tip ? certificateDigest(tip) : null,
      amendments: this.#amendments,
    });
  }

  /**
   * Entries a peer sent. With nothing held yet they must form a whole ledger from the start;
   * otherwise they continue from this node's tip. Kept only if they verify; returns the error otherwise.
   */
  merge(entries: readonly LedgerEntry[]): { added: number } | { error: string } {
    const tip = this.tip();
    const mine = this.ledger();
    const terms = tip ? this.#termsAt(mine) : this.#contract;
    const check = verifyLedger(
      { contract: mine.contract, entries },
      this.#contract,
      tip ? { after: { certificate: tip, terms } } : {},
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

  /** The terms in effect at the end of `ledger`. */
  #termsAt(ledger: Ledger): Contract {
    let terms = this.#contract;
    for (const e of ledger.entries) if (e.type === "amendment") terms = e.terms;
    return terms;
  }
}
