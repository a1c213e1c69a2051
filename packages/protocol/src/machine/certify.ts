import {
  buildCertificate,
  type Certificate,
  type CommitBody,
  commitBodyDigest,
  commitMessageBodyDigest,
  quorumSize,
} from "../wire/certificate.ts";
import type { AgentId, Digest } from "../wire/ids.ts";
import type { CommitMessage } from "../wire/messages.ts";
import type { MachineContext } from "./machine-context.ts";

/** One epoch's commits, and the certificate they make. */
interface CommitBook {
  readonly epoch: number;
  readonly members: readonly AgentId[];
  body: CommitBody | null;
  digest: Digest | null;
  readonly commits: Map<AgentId, CommitMessage>;
  /** Each commit's body digest, computed once. */
  readonly digests: Map<AgentId, Digest>;
  certificate: Certificate | null;
  /** Commit syncs asked for this epoch after the next one began (bounded: PREVIOUS_SYNCS). */
  lateSyncs: number;
}

/**
 * How many times a node asks for an epoch's commits after it moved on to the next epoch without
 * that epoch's certificate. A few: the commits exist (it holds some) and peers serve them at once;
 * an epoch that was left before a quorum committed never certifies, and must not cost a request
 * every half round for the whole next epoch.
 */
const PREVIOUS_SYNCS = 3;

/**
 * Commits and certificates (docs/protocol.md §8). Every member that settles an epoch signs the
 * same commit body (settling is deterministic), so a quorum of identical bodies is a certificate.
 * The previous epoch's book stays open: a certificate may complete after the next epoch began.
 */
export class Certify {
  readonly #ctx: MachineContext;
  readonly #books = new Map<number, CommitBook>();
  readonly #certificates: Certificate[] = [];

  constructor(ctx: MachineContext) {
    this.#ctx = ctx;
  }

  start(epoch: number, members: readonly AgentId[]): void {
    for (const n of [...this.#books.keys()]) if (n < epoch - 1) this.#books.delete(n);
    this.#books.set(epoch, {
      epoch,
      members,
      body: null,
      digest: null,
      commits: new Map(),
      digests: new Map(),
      certificate: null,
      lateSyncs: 0,
    });
    this.#ctx.timers.clear("commit-sync");
    this.#armLateSync(epoch);
  }

  /** This node's rounds settled `epoch` on `body`: sign it if a member, and count the commits. */
  settle(epoch: number, body: CommitBody, member: boolean): void {
    const book = this.#books.get(epoch);
    if (!book) return;
    book.body = body;
    book.digest = commitBodyDigest(body);
    this.#ctx.timers.set("commit-sync", this.#ctx.now + this.#ctx.contract.timeouts.roundMs / 2);
    if (member) this.#publishCommit(book);
    this.#tryCertify(book);
  }

  onCommit(m: CommitMessage): void {
    const book = this.#books.get(m.epoch);
    if (!book) return;
    this.#record(book, m);
    this.#tryCertify(book);
    if (this.#books.has(m.epoch + 1)) this.#armLateSync(m.epoch + 1);
  }

  /** After a restart: a settled epoch's commit goes out again if it never did. */
  resume(epoch: number | null, member: boolean): void {
    const book = epoch === null ? undefined : this.#books.get(epoch);
    if (book?.body && member) this.#publishCommit(book);
  }

  onTick(current: number | null): void {
    const { timers, now } = this.#ctx;
    if (!timers.due("commit-sync", now)) return;
    const book = current === null ? undefined : this.#books.get(current);
    const previous = current === null ? undefined : this.#books.get(current - 1);
    const wanted =
      book?.body && !this.#complete(book) ? book : this.#lateSyncWanted(previous) ? previous : undefined;
    if (!wanted) {
      timers.clear("commit-sync");
      return;
    }
    if (wanted === previous) wanted.lateSyncs += 1;
    this.#ctx.out.sync({ type: "messages", epoch: wanted.epoch, kinds: ["commit"] });
    timers.set("commit-sync", now + this.#ctx.contract.timeouts.roundMs / 2);
  }

  certificate(epoch: number | null): Certificate | null {
    return (epoch === null ? null : this.#books.get(epoch)?.certificate) ?? null;
  }

  committed(epoch: number | null): CommitBody | null {
    return (epoch === null ? null : this.#books.get(epoch)?.body) ?? null;
  }

  /** The certificate of the newest epoch certified here. */
  latest(): Certificate | null {
    return this.#certificates.at(-1) ?? null;
  }

  all(): readonly Certificate[] {
    return this.#certificates;
  }

  /**
   * A node can leave an epoch for the next before it holds the epoch's certificate: a promotion is
   * decided the moment the epoch certifies at its deciders, while a slower node still waits for the
   * last round's demands or the commits. Gossip will not bring the commits it missed again; it
   * asks for them (§8), as a settled node does for its own epoch's, once it knows some exist.
   */
  #armLateSync(current: number): void {
    if (this.#lateSyncWanted(this.#books.get(current - 1)))
      this.#ctx.timers.setEarliest("commit-sync", this.#ctx.now + this.#ctx.contract.timeouts.roundMs / 2);
  }

  #lateSyncWanted(book: CommitBook | undefined): book is CommitBook {
    return (
      book !== undefined &&
      book.certificate === null &&
      (book.body !== null || book.commits.size > 0) &&
      book.lateSyncs < PREVIOUS_SYNCS
    );
  }

  #complete(book: CommitBook): boolean {
    return book.certificate !== null && book.certificate.signatures.length === book.members.length;
  }

  #publishCommit(book: CommitBook): void {
    const me = this.#ctx.me;
    if (!me || !book.body || book.commits.has(me)) return;
    const message = this.#ctx.out.publish<CommitMessage>({ ...book.body, agent: me });
    if (!message) return;
    this.#record(book, message);
    this.#tryCertify(book);
  }

  #record(book: CommitBook, m: CommitMessage): void {
    book.commits.set(m.agent, m);
    book.digests.set(m.agent, commitMessageBodyDigest(m));
  }

  #tryCertify(book: CommitBook): void {
    const quorum = quorumSize(this.#ctx.contract, book.members.length);
    const digest = book.digest ?? this.#quorumDigest(book, quorum);
    if (!digest) return;
    const matching = [...book.commits.values()].filter((c) => book.digests.get(c.agent) === digest);
    const have = book.certificate?.signatures.length ?? 0;
    if (matching.length < quorum || matching.length <= have) return;
    const certificate = buildCertificate(matching);
    const first = book.certificate === null;
    const index = first ? -1 : this.#certificates.indexOf(book.certificate as Certificate);
    book.certificate = certificate;
    if (index >= 0) this.#certificates[index] = certificate;
    else {
      // In epoch order, whatever order they were assembled in (a late commit can complete an
      // older epoch's certificate after a newer one's): latest() is the newest epoch's, and the
      // list is the ledger's order (sim seed 2107).
      let at = this.#certificates.length;
      while (at > 0 && (this.#certificates[at - 1] as Certificate).commit.epoch > book.epoch) at -= 1;
      this.#certificates.splice(at, 0, certificate);
    }
    this.#ctx.out.emit({
      type: "certificate",
      certificate,
      complete: matching.length === book.members.length,
    });
    if (first)
      this.#ctx.out.log("info", "certificate assembled", {
        epoch: book.epoch,
        signers: matching.length,
        ...(book.body ? {} : { settled: false }),
      });
  }

  /**
   * The body a quorum of members signed, for a node that did not settle the epoch itself: it left
   * the rounds for the next epoch first (a promotion decided the moment the epoch certified
   * elsewhere), or it follows without a full view of the rounds. The signers' quorum is what makes
   * the certificate (§8), not this node's own rounds; waiting to settle would leave it without the
   * epoch's certificate for good once its market moved on. Counted only while unsettled: a settled
   * node matches its own body.
   */
  #quorumDigest(book: CommitBook, quorum: number): Digest | null {
    if (book.commits.size < quorum) return null;
    const counts = new Map<Digest, number>();
    for (const d of book.digests.values()) {
      const n = (counts.get(d) ?? 0) + 1;
      if (n >= quorum) return d;
      counts.set(d, n);
    }
    return null;
  }
}
