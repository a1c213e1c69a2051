import {
  buildCertificate,
  type Certificate,
  type CommitBody,
  certificateDigest,
  commitBodyDigest,
  commitMessageBodyDigest,
  quorumSize,
} from "../wire/certificate.ts";
import type { AgentId, Digest } from "../wire/ids.ts";
import type { CommitMessage } from "../wire/messages.ts";
import type { MachineContext } from "./machine-context.ts";
import { MAX_SYNC_AGENTS } from "./machine-io.ts";

/** One epoch's commits, and the certificate they make. */
interface CommitBook {
  readonly epoch: number;
  readonly members: readonly AgentId[];
  body: CommitBody | null;
  digest: Digest | null;
  readonly commits: Map<AgentId, CommitMessage>;
  /** Each commit's body digest, computed once. */
  readonly digests: Map<AgentId, Digest>;
  /** How many commits carry each body digest. */
  readonly tally: Map<Digest, number>;
  certificate: Certificate | null;
  /** Syncs of this epoch's commits asked after this node moved on to the next epoch (EXTRA_SYNCS). */
  extraSyncs: number;
  /** The next epoch's plan links to a certificate this node does not hold: most likely this one's. */
  certifiedElsewhere: boolean;
  /**
   * Asks left for this epoch's commits on behalf of a proposal for the next epoch that links to a
   * certificate of this one not held here (`seek`): the acceptor cannot judge the link without it.
   */
  seeks: number;
  /**
   * Members whose gossiped commit reference named another body than this node's (§8): asked for
   * whole at the next tick (`wanted`); how often and when last each was asked (`asks`).
   */
  readonly otherBody: {
    readonly wanted: Set<AgentId>;
    readonly asks: Map<AgentId, { readonly count: number; readonly at: number }>;
  };
}

/**
 * How many times a node asks for the commits of an epoch it moved on from without its certificate:
 * an epoch left before a quorum committed never certifies.
 */
const EXTRA_SYNCS = 3;

/**
 * How many times a node asks for one member's commit of its epoch because gossiped references of
 * it named another body, at least roundMs/2 apart. A reference is unsigned until expanded, so a
 * forged one can spend an ask before the member has committed (the answer then holds nothing):
 * later references still get asks, and the count bounds what forged ones make a node fetch.
 */
const OTHER_BODY_ASKS = 3;

/**
 * Commits and certificates (docs/protocol.md §8). Every member that settles an epoch signs the
 * same commit body (settling is deterministic), so a quorum of identical bodies is a certificate.
 * The previous epoch's book stays open: a certificate may complete after the next epoch began.
 */
export class Certify {
  readonly #ctx: MachineContext;
  readonly #books = new Map<number, CommitBook>();
  readonly #certificates: Certificate[] = [];
  #current: number | null = null;
  readonly #diverged: (m: CommitMessage, own: CommitBody) => void;

  /**
   * `diverged`: a member's commit of the current epoch carries another body than the one this node
   * settled on (docs/protocol.md §5.1): the rounds closed on different demand sets somewhere.
   */
  constructor(ctx: MachineContext, diverged: (m: CommitMessage, own: CommitBody) => void) {
    this.#ctx = ctx;
    this.#diverged = diverged;
  }

  /** Epoch `epoch` began; `ledger` is the certificate its plan links to (§12). */
  start(epoch: number, members: readonly AgentId[], ledger: Digest | null): void {
    for (const n of [...this.#books.keys()]) if (n < epoch - 1) this.#books.delete(n);
    const previous = this.#books.get(epoch - 1);
    if (previous && ledger !== null && !this.#certificates.some((c) => certificateDigest(c) === ledger))
      previous.certifiedElsewhere = true;
    this.#current = epoch;
    this.#books.set(epoch, {
      epoch,
      members,
      body: null,
      digest: null,
      commits: new Map(),
      digests: new Map(),
      tally: new Map(),
      certificate: null,
      extraSyncs: 0,
      certifiedElsewhere: false,
      seeks: 0,
      otherBody: { wanted: new Set(), asks: new Map() },
    });
    this.#ctx.timers.clear("commit-sync");
    this.#armSync();
  }

  /** This node's rounds settled `epoch` on `body`: sign it if a member, and count the commits. */
  settle(epoch: number, body: CommitBody, member: boolean): void {
    const book = this.#books.get(epoch);
    if (!book) return;
    book.body = body;
    book.digest = commitBodyDigest(body);
    if (member) this.#publishCommit(book);
    this.#tryCertify(book);
    this.#armSync();
  }

  onCommit(m: CommitMessage): void {
    const book = this.#books.get(m.epoch);
    if (!book) return;
    this.#record(book, m);
    if (book.body && m.epoch === this.#current && book.digests.get(m.agent) !== book.digest)
      this.#diverged(m, book.body);
    this.#tryCertify(book);
    this.#armSync();
  }

  /**
   * A gossiped reference of `agent`'s commit for `epoch` named another body than this node settled
   * on. The reference cannot be checked without its body, and an honest split member's commit is
   * how this side of a split sees the split and probes (§5.1, onCommit): ask for the commit whole
   * while this node lacks it, OTHER_BODY_ASKS times at most. Only the current epoch's: an older
   * commit on another body shows no split worth probing.
   */
  onOtherBody(epoch: number, agent: AgentId): void {
    const { me, now, contract } = this.#ctx;
    const book = this.#books.get(epoch);
    if (!book?.body || epoch !== this.#current || agent === me || !book.members.includes(agent)) return;
    if (book.commits.has(agent)) return;
    const prior = book.otherBody.asks.get(agent);
    if (prior && (prior.count >= OTHER_BODY_ASKS || now < prior.at + contract.timeouts.roundMs / 2)) return;
    book.otherBody.asks.set(agent, { count: (prior?.count ?? 0) + 1, at: now });
    book.otherBody.wanted.add(agent);
    this.#ctx.timers.setEarliest("commit-other", now);
  }

  /** After a restart: a settled epoch's commit goes out again if it never did. */
  resume(epoch: number | null, member: boolean): void {
    const book = epoch === null ? undefined : this.#books.get(epoch);
    if (book?.body && member) this.#publishCommit(book);
  }

  onTick(): void {
    this.#askOtherBodies();
    const { timers, now } = this.#ctx;
    if (!timers.due("commit-sync", now)) return;
    const wanted = this.#syncWanted();
    if (!wanted) {
      timers.clear("commit-sync");
      return;
    }
    if (wanted.epoch !== this.#current) wanted.extraSyncs += 1;
    else if (!wanted.body) wanted.seeks -= 1;
    // Only the commits it lacks: one answer used to carry every commit of the epoch (~8 KB each at
    // 50 members), mostly signatures the asker held.
    const lacking = wanted.members.filter((id) => !wanted.commits.has(id));
    this.#ctx.out.sync({
      type: "messages",
      epoch: wanted.epoch,
      kinds: ["commit"],
      ...(lacking.length > 0 ? { from: lacking } : {}),
    });
    timers.set("commit-sync", now + this.#ctx.contract.timeouts.roundMs / 2);
  }

  /** The commits whose references named another body (onOtherBody), gathered over one event's burst. */
  #askOtherBodies(): void {
    const { timers, now } = this.#ctx;
    if (!timers.due("commit-other", now)) return;
    timers.clear("commit-other");
    const book = this.#current === null ? undefined : this.#books.get(this.#current);
    if (!book || book.otherBody.wanted.size === 0) return;
    const wanted = [...book.otherBody.wanted];
    book.otherBody.wanted.clear();
    for (let i = 0; i < wanted.length; i += MAX_SYNC_AGENTS)
      this.#ctx.out.sync({
        type: "messages",
        epoch: book.epoch,
        kinds: ["commit"],
        from: wanted.slice(i, i + MAX_SYNC_AGENTS),
      });
  }

  /**
   * Whether a quorum of `epoch`'s members signed a commit body with this digest, among the commits
   * held here: a certificate of it, whether or not this node settled on that body itself.
   */
  certifies(epoch: number, digest: Digest): boolean {
    const book = this.#books.get(epoch);
    if (!book) return false;
    if (book.certificate && certificateDigest(book.certificate) === digest) return true;
    return (book.tally.get(digest) ?? 0) >= quorumSize(this.#ctx.contract, book.members.length);
  }

  /**
   * A proposal for the epoch after `epoch` links to a certificate of it this node lacks: ask for
   * its commits, EXTRA_SYNCS times (each new proposal asks again), so that an honest proposer that
   * assembled the certificate first is not refused for good (docs/protocol.md §12).
   */
  seek(epoch: number): void {
    const book = this.#books.get(epoch);
    if (!book || book.certificate !== null) return;
    book.seeks = EXTRA_SYNCS;
    this.#armSync();
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
   * Whose commits to ask peers for (§8): the epoch this node settled, until it holds a certificate
   * (the signatures a certificate still lacks are not chased: gossip brings them as references,
   * and one naming another body is asked for by onOtherBody); else the epoch it left for the next
   * without a certificate, a few times, once it knows that one exists or may (it settled it, holds
   * commits of it, or the next plan links to a certificate it lacks). A promotion is decided the
   * moment an epoch certifies at its deciders, while a slower node may still wait for the last
   * round's demands, and gossip does not bring back the commits it missed.
   */
  #syncWanted(): CommitBook | undefined {
    if (this.#current === null) return undefined;
    const book = this.#books.get(this.#current);
    if (book?.body && book.certificate === null) return book;
    if (book && book.certificate === null && book.seeks > 0) return book;
    const previous = this.#books.get(this.#current - 1);
    if (
      previous &&
      previous.certificate === null &&
      previous.extraSyncs < EXTRA_SYNCS &&
      (previous.body !== null || previous.commits.size > 0 || previous.certifiedElsewhere)
    )
      return previous;
    return undefined;
  }

  #armSync(): void {
    if (this.#syncWanted())
      this.#ctx.timers.setEarliest("commit-sync", this.#ctx.now + this.#ctx.contract.timeouts.roundMs / 2);
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
    const digest = commitMessageBodyDigest(m);
    const before = book.digests.get(m.agent);
    if (before !== undefined) book.tally.set(before, (book.tally.get(before) as number) - 1);
    book.commits.set(m.agent, m);
    book.digests.set(m.agent, digest);
    book.tally.set(digest, (book.tally.get(digest) ?? 0) + 1);
  }

  #tryCertify(book: CommitBook): void {
    const quorum = quorumSize(this.#ctx.contract, book.members.length);
    const digest = book.digest ?? this.#quorumDigest(book, quorum);
    if (!digest) return;
    const have = book.certificate?.signatures.length ?? 0;
    const count = book.tally.get(digest) ?? 0;
    if (count < quorum || count <= have) return;
    const matching = [...book.commits.values()].filter((c) => book.digests.get(c.agent) === digest);
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
    for (const [digest, count] of book.tally) if (count >= quorum) return digest;
    return null;
  }
}
