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
}

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
    });
    this.#ctx.timers.clear("commit-sync");
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
    if (!book?.body || this.#complete(book)) {
      timers.clear("commit-sync");
      return;
    }
    this.#ctx.out.sync({ type: "messages", epoch: book.epoch, kinds: ["commit"] });
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
    if (!book.body || !book.digest) return;
    const matching = [...book.commits.values()].filter((c) => book.digests.get(c.agent) === book.digest);
    const quorum = quorumSize(this.#ctx.contract, book.members.length);
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
      this.#ctx.out.log("info", "certificate assembled", { epoch: book.epoch, signers: matching.length });
  }
}
