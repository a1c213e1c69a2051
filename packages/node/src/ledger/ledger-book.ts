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
  type Ledger,
  type LedgerEntry,
  type LedgerTerms,
  ledgerEntrySchema,
  verifyLedger,
  verifyMessage,
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
  /** The chain's last certificate: where the next slot extends it. */
  tip: string | null;
  /** The terms the ledger's last certificate ran under. */
  terms: LedgerTerms;
  /**
   * The entries stop before `tip`, at a certificate under terms whose amendment is not verified
   * here: later slots on the chain add nothing until it is (which builds the ledger again).
   */
  stalled: boolean;
}

/**
 * How far behind this node's anchor a peer's page may start (#pageBase), and how far a responder
 * walks back from an `after` held off its ledger (indexReachedFrom). A slot is left out when the
 * next epoch's plan linked past it, to the slot before it (protocol §12: a plan links to e's
 * certificate or to e's plan's link), so a left-out slot has no slot after it: one step back is
 * all an honest chain ever needs, and every step more lets a made-up page take more history.
 */
export const LEFT_OUT_SLOTS = 1;

/**
 * A node's ledger (docs/protocol.md §12): the certificates it holds, on the chain that ends at
 * its latest, and the amendments that changed the terms, built on demand from the store. Entries
 * a peer sends (catch-up) are verified against what the node already holds before they are kept.
 */
export class LedgerBook {
  readonly #store: Store;
  readonly #contract: Contract;
  readonly #marketId: string;
  readonly #certificates = new Map<string, Certificate>();
  /** Every amendment stored, verified or not (one stored before that rule may not verify). */
  readonly #amendments = new Map<string, StoredAmendment>();
  /**
   * The amendments verified after the certificate they follow: only these go in the ledger, and a
   * certificate under terms not here is a missing link (charged under the terms before, its
   * charges would be wrong, and the ledger served would not verify).
   */
  readonly #verified = new Map<string, StoredAmendment>();
  /** Digests of certificates whose chain back to the first is held, amendments included. */
  readonly #whole = new Set<string>();
  /** Each certificate's digest by the digest it names as `previous`: the chain read forward. */
  readonly #next = new Map<string | null, string>();
  /**
   * The digest of the certificate the store holds for each epoch (it keeps one an epoch): only a
   * copy of that one signed by every member is written over it. Beyond I3 a faulty quorum's second
   * certificate of an epoch was written over the first, and after a restart the anchor sat on it.
   */
  readonly #stored = new Map<number, string>();
  /**
   * The digest of `anchor()`, advanced as certificates and amendments come (catch-up asks for it
   * three times a page; found from scratch, it cost 46–55 ms a call at 50,000 certificates).
   * Undefined when it must be found from the start again (a certificate replaced a link).
   */
  #anchor: string | null | undefined = null;

  /**
   * Built on first use and then extended slot by slot: every sync `ledger` request and every
   * `GET /ledger` reads it, and building it anew each time made serving the ledger cost grow with
   * its length on every request.
   */
  #built: Built | null = null;

  constructor(store: Store, contract: Contract, log?: LedgerBookLog) {
    this.#store = store;
    this.#contract = contract;
    this.#marketId = contractId(contract);
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
      if (parsed.success) {
        const digest = certificateDigest(parsed.data);
        this.#stored.set(row.epoch, digest);
        this.#hold(digest, parsed.data);
      } else
        log?.warn(
          { ...where, error: parsed.error.issues[0]?.message, field: parsed.error.issues[0]?.path.join(".") },
          "stored certificate is not a valid certificate; skipped (catch-up will fetch it again)",
        );
    }
    const saved = (store.loadState(AMENDMENTS_KEY) ?? {}) as Record<string, StoredAmendment>;
    for (const [id, a] of Object.entries(saved)) {
      // Read as a ledger entry: its signatures are verified below, and a row that is not one
      // must not throw there and keep the node from starting.
      const parsed = ledgerEntrySchema.safeParse({ type: "amendment", ...a });
      const entry = parsed.success ? (parsed.data as LedgerEntry) : null;
      if (entry?.type === "amendment")
        this.#amendments.set(id, { terms: entry.terms, signatures: entry.signatures });
    }
    this.#verifyStored();
  }

  /**
   * Stored amendments are checked where the chain held places them (before the first certificate
   * under their terms), oldest first, as one amending amended terms needs those verified first.
   * One that does not verify stays out of the ledger: catch-up asks for the slots from the
   * certificate before it, and a peer's verified copy replaces it (merge). One that cannot be
   * placed yet (kept before a restart, no slot under its terms held) is checked when one comes.
   */
  #verifyStored(): void {
    const first = new Map<string, Certificate>();
    for (const c of this.#certificates.values()) {
      const id = c.commit.terms;
      if (id === undefined || !this.#amendments.has(id)) continue;
      const seen = first.get(id);
      if (!seen || c.commit.epoch < seen.commit.epoch) first.set(id, c);
    }
    const placed = [...first.values()].sort((a, b) => a.commit.epoch - b.commit.epoch);
    for (const c of placed) this.#placeStored(c);
  }

  /**
   * Verifies the stored amendment of `c`'s terms after the certificate before `c`, when it is
   * held and not yet verified: true when that made it verified.
   */
  #placeStored(c: Certificate): boolean {
    const id = c.commit.terms;
    const amendment = id === undefined ? undefined : this.#amendments.get(id);
    if (id === undefined || !amendment || this.#verified.has(id) || c.commit.previous === null) return false;
    const before = this.#certificates.get(c.commit.previous);
    // After a certificate under the same terms is not where the amendment goes: not checked there.
    if (!before || before.commit.terms === id || !this.#verifies(amendment, before)) return false;
    this.#verified.set(id, amendment);
    return true;
  }

  /** #placeStored for the certificate the chain goes on to after `digest`, when it is held. */
  #placeStoredAfter(digest: string): boolean {
    const next = this.#next.get(digest);
    const after = next === undefined ? undefined : this.#certificates.get(next);
    return after !== undefined && this.#placeStored(after);
  }

  /** Holds `cert`, keeping the chain's forward links. */
  #hold(digest: string, cert: Certificate): void {
    this.#certificates.set(digest, cert);
    const { previous } = cert.commit;
    this.#link(previous, digest);
    // The certificate before `cert` now has a slot after it: it may take its own link back.
    const before = previous === null ? undefined : this.#certificates.get(previous);
    if (before) this.#link(before.commit.previous, previous as string);
  }

  /**
   * Links `digest` forward from `previous` unless the certificate linked there already is the one
   * the chain goes on through. Two can name one certificate: a slot left out (a later epoch's plan
   * linked past it, its proposer lacking that certificate: protocol §12), or beyond I3 a faulty
   * quorum's second certificate for an epoch. The last one read won before: the anchor then
   * stopped at a slot no peer's ledger has, and catch-up got nothing after it for good.
   */
  #link(previous: string | null, digest: string): void {
    const linked = this.#next.get(previous);
    if (linked === digest) return;
    if (linked !== undefined && !this.#goesOnThrough(digest, linked)) return;
    this.#next.set(previous, digest);
    // The anchor may be past the link replaced, on the other branch: found from the start again.
    if (linked !== undefined) this.#anchor = undefined;
  }

  /**
   * Whether the chain goes on through `a` rather than `b`, both naming the same certificate:
   * the one a held certificate names as `previous`, else the later epoch (the earlier one was
   * left out), else neither (the one held first keeps the link).
   */
  #goesOnThrough(a: string, b: string): boolean {
    const continued = this.#next.has(a);
    if (continued !== this.#next.has(b)) return continued;
    const epoch = (d: string) => (this.#certificates.get(d) as Certificate).commit.epoch;
    return epoch(a) > epoch(b);
  }

  /**
   * A certificate assembled here or fetched: held, and stored unless the store holds another
   * certificate of its epoch (the first stored is kept). Returns its digest.
   */
  addCertificate(cert: Certificate): string {
    const digest = certificateDigest(cert);
    const first = !this.#certificates.has(digest);
    const { epoch } = cert.commit;
    const stored = this.#stored.get(epoch);
    // A certificate comes here again with each late commit: at 50 members a quorum of 34, then up
    // to 16 more, each write re-encoding ~12 KB. The first already proves the epoch: the store
    // keeps it, and then the complete one. Stored before it is held: a write that fails (a full
    // disk) leaves the book as it was, and the next signature's copy is "first" again.
    if (
      (stored === undefined || stored === digest) &&
      (first || cert.signatures.length === cert.commit.members.length)
    ) {
      this.#store.putCertificate(epoch, new TextEncoder().encode(canonicalJson(cert)));
      this.#stored.set(epoch, digest);
    }
    this.#hold(digest, cert);
    // Its terms' amendment, stored and not verified yet, may be placed now, or that of the slot
    // after it, held first (else only a restart or a peer's copy placed it). One placed can be the
    // terms a later stored amendment is checked under (B→C(A1)→D(A2), D and C held before B): all
    // are checked again, oldest first, so that A2 is not left for a restart. It costs a pass over
    // the certificates held, only when an amendment was placed. The ledger is built again.
    if (first && (this.#placeStored(cert) || this.#placeStoredAfter(digest))) {
      this.#verifyStored();
      this.#built = null;
    } else this.#update(digest, cert, first);
    return digest;
  }

  /**
   * The amendment that made the terms `id`, with the signatures this node's machine saw, to follow
   * the certificate `after` (the plan's `ledger` of the first epoch under its terms). Kept with
   * only the valid signatures of `after`'s members, and only when they reach its quorum: an
   * acceptor takes an amended plan without seeing its votes. Returns false when not kept verified
   * (short of a quorum, or `after` not held: then kept unverified, to check when its first slot
   * comes): the node then has it from a peer's ledger (catch-up) or from that check.
   */
  addAmendment(id: string, amendment: StoredAmendment, after: string | null): boolean {
    if (this.#verified.has(id)) return true;
    const before = after === null ? undefined : this.#certificates.get(after);
    const valid = (m: StoredAmendment["signatures"][number]) =>
      m.contract === this.#marketId &&
      (m.kind === "amend" ? contractId(m.terms) : m.amendment) === id &&
      verifyMessage(m);
    if (!before) {
      // The certificate it follows is not held yet: kept unverified (stored), so that it is checked
      // where the first certificate under its terms places it (#placeStored) — should no peer have
      // verified it either, dropping the votes here would stop every ledger before that slot.
      if (contractId(amendment.terms) === id && !this.#amendments.has(id))
        this.#storeUnverified(id, { terms: amendment.terms, signatures: amendment.signatures.filter(valid) });
      return false;
    }
    const members = new Set<string>(before.commit.members);
    const signatures = amendment.signatures.filter((m) => members.has(m.agent) && valid(m));
    const kept = { terms: amendment.terms, signatures };
    if (contractId(kept.terms) !== id || !this.#verifies(kept, before)) return false;
    this.#keep(id, kept);
    return true;
  }

  /** Whether `amendment` is a valid ledger entry just after `before` (verifyLedger's own rule). */
  #verifies(amendment: StoredAmendment, before: Certificate): boolean {
    const terms = this.#termsOf(before);
    if (!terms || amendment.signatures.length === 0) return false;
    const entry: LedgerEntry = { type: "amendment", ...amendment };
    const check = verifyLedger({ contract: this.#marketId, entries: [entry] }, this.#contract, {
      after: { certificate: before, terms },
    });
    return check.ok;
  }

  /** Stored and held as not verified: #placeStored checks it when a certificate under its terms comes. */
  #storeUnverified(id: string, amendment: StoredAmendment): void {
    // Stored before it is held, so a write that fails leaves the book as it was.
    this.#store.saveState(AMENDMENTS_KEY, { ...Object.fromEntries(this.#amendments), [id]: amendment });
    this.#amendments.set(id, amendment);
  }

  /** An amendment verified where it goes in the ledger: stored (replacing one that did not verify), then held. */
  #keep(id: string, amendment: StoredAmendment): void {
    this.#storeUnverified(id, amendment);
    this.#verified.set(id, amendment);
    // The terms a later stored amendment is checked under may be these (as in addCertificate).
    this.#verifyStored();
    // Certificates already held under these terms were left out of the ledger: build again.
    this.#built = null;
  }

  /** The terms the amendment `id` made, when this node holds it (verified or not). */
  amendedTerms(id: string): Contract | undefined {
    return this.#amendments.get(id)?.terms;
  }

  /** The terms `c` ran under, when the amendment that made them is verified here. */
  #termsOf(c: Certificate): Contract | undefined {
    const id = c.commit.terms;
    return id === undefined ? this.#contract : this.#verified.get(id)?.terms;
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
    let end = this.#anchor ?? null;
    for (let d = this.#next.get(end); d !== undefined; d = this.#next.get(end)) {
      // A certificate under terms whose amendment is not verified here is a missing link too.
      if (!this.#termsOf(this.#certificates.get(d) as Certificate)) break;
      end = d;
    }
    this.#anchor = end;
    return end === null ? null : (this.#certificates.get(end) as Certificate);
  }

  /**
   * True when this node holds the certificate `digest` and every one before it, and the verified
   * amendment of every terms they ran under (else the ledger cannot charge them). Asked on every
   * certificate update, so whole chains found are remembered (certificates and verified
   * amendments are never dropped) and each link is walked once.
   */
  holdsChainTo(digest: string): boolean {
    const walked: string[] = [];
    for (let d: string | null = digest; d !== null && !this.#whole.has(d); ) {
      const c = this.#certificates.get(d);
      if (!c || !this.#termsOf(c)) return false;
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

  /**
   * Where the ledger takes up the chain through `digest`: the index in `ledger().entries` of the
   * latest certificate on it that `digest` leads back to by `previous`, over the certificates held
   * (`digest`'s own when it is on it), or -1 when that walk leaves what is held first. A slot left
   * out (a later plan linked past it) is not on the ledger: a peer whose chain ends there is
   * served from the slot its chain and the ledger share (ledger-sync.ts).
   */
  indexReachedFrom(digest: string): number {
    const { index } = this.#build();
    let d: string | null = digest;
    // Bounded as the asker's #pageBase is: a left-out slot is one step off the chain, and an
    // unbounded walk let any asker cost a long one per request.
    for (let back = 0; back <= LEFT_OUT_SLOTS && d !== null; back++) {
      const at = index.get(d);
      if (at !== undefined) return at;
      const c = this.#certificates.get(d);
      if (!c) return -1;
      d = c.commit.previous;
    }
    return -1;
  }

  #build(): Built {
    if (this.#built) return this.#built;
    const tip = this.tip();
    const tipDigest = tip ? certificateDigest(tip) : null;
    const ledger = buildLedger({
      contract: this.#contract,
      certificates: [...this.#certificates.values()],
      tip: tipDigest,
      amendments: this.#verified,
    });
    const entries = [...ledger.entries];
    const index = new Map<string, number>();
    let terms: LedgerTerms = { terms: this.#contract, id: ledger.contract };
    for (const [i, e] of entries.entries()) {
      if (e.type === "amendment") terms = { terms: e.terms, id: contractId(e.terms) };
      else index.set(certificateDigest(e.certificate), i);
    }
    const stalled = tipDigest !== null && !index.has(tipDigest);
    this.#built = { contract: ledger.contract, entries, index, tip: tipDigest, terms, stalled };
    return this.#built;
  }

  /**
   * Keeps the built ledger in step with a certificate added: the next slot on the chain extends
   * it, a late commit for one already held replaces its entry if it has one (its charges are the
   * same; the chain is unchanged), and anything else (a gap filled, a slot out of order) has it
   * built again when next asked.
   */
  #update(digest: string, cert: Certificate, first: boolean): void {
    const built = this.#built;
    if (!built) return;
    if (!first) {
      // Not built again for one past where the ledger stalls: each late signature would have
      // rebuilt it, at every slot, until the amendment came.
      const at = built.index.get(digest);
      const entry = at === undefined ? undefined : built.entries[at];
      if (at !== undefined && entry?.type === "certificate")
        built.entries[at] = { ...entry, certificate: cert };
      return;
    }
    if (cert.commit.previous !== null && cert.commit.previous === built.tip) {
      built.tip = digest;
      if (built.stalled) return;
      const terms = appendLedgerCertificate(built.entries, built.terms, cert, built.contract, this.#verified);
      if (!terms) built.stalled = true;
      else {
        built.terms = terms;
        built.index.set(digest, built.entries.length - 1);
      }
      return;
    }
    this.#built = null;
  }

  /**
   * Entries a peer sent. With no first certificate held they must form a whole ledger from the
   * start; otherwise they continue from the certificate their first certificate names as
   * `previous` when this node holds the chain to it, else from the anchor (certificates already
   * held are kept once). Kept only if they verify; returns the certificates it added (not those
   * already held), or the error. An amendment verified here is kept once too, but replaces a held
   * one that never verified (stored before that rule).
   */
  merge(entries: readonly LedgerEntry[]): { added: readonly Certificate[] } | { error: string } {
    const base = this.#pageBase(entries);
    // The base's terms are its commit's own: read from the built ledger instead, they were the
    // last amendment on it, wrong when the base is not on it (a gap before the tip).
    const terms = base ? (this.#termsOf(base) as Contract) : this.#contract;
    const check = verifyLedger(
      { contract: this.#marketId, entries },
      this.#contract,
      base ? { after: { certificate: base, terms } } : {},
    );
    if (!check.ok) return { error: check.error };
    const added: Certificate[] = [];
    for (const e of entries) {
      if (e.type === "amendment") {
        const id = contractId(e.terms);
        if (!this.#verified.has(id)) this.#keep(id, { terms: e.terms, signatures: e.signatures });
      } else if (!this.has(certificateDigest(e.certificate))) {
        this.addCertificate(e.certificate);
        added.push(e.certificate);
      }
    }
    return { added };
  }

  /**
   * The certificate a peer's page follows. Not always the anchor: asked after a slot its ledger
   * left out (a later plan linked past it), a peer answers after the last slot its ledger shares
   * with the asker's chain (indexReachedFrom), and checked against the anchor that page did not
   * link, so catch-up got nothing after the left-out slot for good. So the certificate the page's
   * first certificate names as `previous` is taken when it is the anchor or the one before it
   * (LEFT_OUT_SLOTS); the anchor otherwise. Unbounded, any peer could displace settled
   * history: in an open market a certificate proves only that its own members signed, and a page
   * of two made-up slots after an old certificate took the chain's link from there on (review).
   */
  #pageBase(entries: readonly LedgerEntry[]): Certificate | null {
    const anchor = this.anchor();
    const first = entries.find((e) => e.type === "certificate");
    const previous = first?.type === "certificate" ? first.certificate.commit.previous : null;
    if (anchor === null || previous === null) return anchor;
    let at: Certificate | undefined = anchor;
    for (let back = 0; back <= LEFT_OUT_SLOTS && at !== undefined; back++) {
      if (certificateDigest(at) === previous) return at;
      at = at.commit.previous === null ? undefined : this.#certificates.get(at.commit.previous);
    }
    return anchor;
  }
}
