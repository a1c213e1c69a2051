import type { AgentId } from "../wire/ids.ts";
import { encodeMessage, MAX_MESSAGE_BYTES } from "../wire/message-codec.ts";
import type { AcceptMessage, ProposeMessage, ViewMessage, WireMessage } from "../wire/messages.ts";
import { EpochDecision, feed } from "./epoch-decision.ts";

/** Entries a node that knows no epoch keeps: candidate decisions and epochs' early messages. */
export const MAX_PENDING_DECISIONS = 16;
/**
 * Messages one entry holds: an epoch's early accepts and views, or one candidate's proposals,
 * accepts and views. A decision needs a quorum's worth, at most ~800 under the wire's cap on a
 * plan's deciders (plan-fit.ts); a made-up one would take any number (views without end). Views
 * may take only half (ENTRY_VIEW_SHARE), and the other half holds the largest quorum and its
 * proposal: at 1,024 in all, one view change among 700 deciders, its views (public, carrying no
 * plan) replayed into the real candidate first, left no room for the accepts an honest answer
 * brought. Kept beside the byte bounds below, which it does not follow from: an accept is ~375
 * bytes, so they alone would let an entry hold ~5,600 messages, each a slot the SlotBook keeps.
 */
export const MAX_ENTRY_MESSAGES = 2048;

/**
 * Wire bytes one entry holds, in wire caps (MAX_MESSAGE_BYTES, M = 256 KiB): 8 M = 2 MiB. Counted
 * by messages, not plans: each view decoded carries a plan object of its own, shared with nothing
 * (nor is a proposal's with its views'). A made-up candidate's proposals (one per view, each up to
 * M) and views carrying a plan (each up to M) would otherwise reach 2,048 M = 512 MiB. What an
 * honest answer brings at the largest plan the wire allows (plan-fit.ts: ~1,600 deciders, so a
 * quorum of ~800) is its proposal (≤ M) and ~800 accepts of ≤ 375 bytes (an agent id is 52
 * characters; ≤ 451 at the wire's 128), ≤ 2.2 M in all. A view enters an entry only while the
 * entry, with it, stays within half its bytes and holds fewer than half its messages
 * (ENTRY_VIEW_SHARE; the entry's whole content counts, not its views' alone): a node adopts on
 * a proposal and accepts, never on views, and the real deciders' own views carrying a large plan (gossip carries them) replayed into the real
 * candidate must not leave it without room for the proposal and accepts an honest answer brings.
 */
export const MAX_ENTRY_BYTES = 8 * MAX_MESSAGE_BYTES;
/** The share of an entry's bytes and messages up to which it takes views (see MAX_ENTRY_BYTES). */
const ENTRY_VIEW_SHARE = 1 / 2;
/**
 * Wire bytes the whole table holds, summed over its entries (an accept held by its epoch's early
 * entry and by a candidate counts twice, so the sum bounds the distinct messages' bytes too):
 * 32 M = 8 MiB, four full entries, where the count bounds alone allowed 16 × 1,024 × M = 4 GiB
 * (at 1,024 messages an entry, as it was).
 * The real decision fed in full (≤ 2.2 M) and the same accepts in its epoch's early entry
 * (≤ 1.2 M) take ≤ 3.4 M of it, leaving room for the other entries present as it is fed (an
 * honest answer's exclusion plans, made-up candidates): they go only when the bytes exceed it,
 * and only as a proposal or a view is taken, never an accept. An accept is offered to every
 * candidate of its epoch (taken by those naming its signer), each moved to the back in the table's
 * order whether it took it or not, so the last moved may be a made-up one; evicting on an accept's bytes, a peer that had replayed the real
 * proposal (so the honest answer's copy is a duplicate, fed to nothing) and then tuned made-up
 * candidates of the same epoch to just under the bound had the honest answer's first accept push
 * the real candidate out. Accepts may so take the table past the bound until the next proposal or
 * view: by at most 16 entries × 2,048 accepts of ≤ 451 bytes, ~14.8 MB, ~23 MB in all.
 * In wire bytes: the decoded objects take a small multiple more.
 */
export const MAX_PENDING_BYTES = 32 * MAX_MESSAGE_BYTES;

type DecisionMessage = ProposeMessage | AcceptMessage | ViewMessage;

/** An entry's wire bytes, as counted against MAX_ENTRY_BYTES and MAX_PENDING_BYTES. */
type Weighed = { bytes: number };
/** An epoch's early accepts and views, each with its wire bytes (measured once, as taken). */
type EarlyEntry = Weighed & {
  readonly kind: "early";
  readonly epoch: number;
  readonly messages: Map<AcceptMessage | ViewMessage, number>;
};
type CandidateEntry = Weighed & {
  readonly kind: "candidate";
  readonly epoch: number;
  readonly decision: EpochDecision;
};
/** A proposal's decision, keyed by its epoch and the deciders it names, or an epoch's early messages. */
type Entry = CandidateEntry | EarlyEntry;

/**
 * The decisions a node that knows no epoch gathers from the answers to its own asks
 * (docs/protocol.md §9.3), taking each proposal's deciders on trust. Bounded, and bounded so that a
 * peer it asks cannot keep it from adopting the real epoch (docs/security.md §2):
 *
 * - A candidate is keyed by its epoch *and* its deciders: keyed by the epoch alone, one made-up
 *   proposal of the real epoch, answered first, bound that epoch to made-up deciders, and the real
 *   proposal and accepts were then dropped as not theirs.
 * - Past the bound the entry least recently fed goes, never by its epoch: evicting the lowest
 *   epoch, 20 made-up proposals for epochs 1,000 and up evicted the real decision as it was
 *   created; evicting the highest, proposals for epochs below it would, and so would an honest
 *   answer's own exclusion plans (older proposals sent ahead of the decision). Keyed per signer, a
 *   flood of throwaway keys (free under an open contract) would fill it just the same; counting
 *   accepts of distinct deciders would too, as the deciders are the forger's.
 * - Bounded in bytes too (MAX_PENDING_BYTES, MAX_ENTRY_BYTES): past the table's bytes, as a
 *   proposal or view is taken (not an accept: see MAX_PENDING_BYTES), the entries least recently
 *   fed go in the same order; an entry past its bytes takes no more, as past its messages. A
 *   message's bytes are its encoding's, measured once as it is taken (a received message keeps
 *   the bytes it came in).
 * - A message no entry holds any longer (evicted, or past an entry's MAX_ENTRY_MESSAGES or
 *   MAX_ENTRY_BYTES) is forgotten: its slot is free, so it is taken again when it comes back.
 *   Kept as seen, the real proposal or accepts (public: gossip carries them) answered first and
 *   then pushed out by 16 made-up proposals made every later honest answer's copies duplicates,
 *   and the node adopted nothing until another epoch was decided. So an honest answer, which
 *   holds the decision whole (its proposal then its accepts) and is applied before any other
 *   (docs/protocol.md §3), brings all of it that the table lacks, and the node adopts as it is
 *   applied, whatever a flood did before. The one exception: the real decision's candidate
 *   already full of its own deciders' messages (replayed), which takes a decision whose deciders
 *   signed more than MAX_ENTRY_MESSAGES of them, or proposals of other views and accepts past
 *   MAX_ENTRY_BYTES less what the honest answer brings (views alone cannot: an entry takes them
 *   only up to half its bytes and messages).
 * - Accepts and views of an epoch are kept in its early entry besides being fed to its
 *   candidates, so that a candidate proposed later (the real one after a made-up one) is fed
 *   those that came before it.
 */
export class PendingDecisions {
  readonly #me: AgentId | null;
  /** Least recently fed first: a Map keeps its keys in insertion order. */
  readonly #entries = new Map<string, Entry>();
  /** MAX_ENTRY_BYTES and MAX_PENDING_BYTES at this network's wire cap (unbounded when it is). */
  readonly #entryBytes: number;
  readonly #tableBytes: number;
  #bytes = 0;

  /** The byte bounds scale with `maxMessageBytes`, the wire's cap (the scale simulation lifts it). */
  constructor(me: AgentId | null, maxMessageBytes: number = MAX_MESSAGE_BYTES) {
    this.#me = me;
    this.#entryBytes = (MAX_ENTRY_BYTES / MAX_MESSAGE_BYTES) * maxMessageBytes;
    this.#tableBytes = (MAX_PENDING_BYTES / MAX_MESSAGE_BYTES) * maxMessageBytes;
  }

  /** The wire bytes the entries hold, summed over them (at most MAX_PENDING_BYTES after each proposal or view taken). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Takes a decision message; `forget` gets each message no longer held (its slot may be taken again). */
  take(m: DecisionMessage, now: number, forget: (m: WireMessage) => void): void {
    const bytes = encodeMessage(m).byteLength;
    if (m.kind === "propose") this.#propose(m, bytes, now);
    else this.#early(m, bytes, now);
    if (!this.#holds(m)) forget(m);
    // Least recently fed first. On a proposal the one fed last is its candidate, which fits alone
    // (MAX_ENTRY_BYTES ≤ MAX_PENDING_BYTES); an accept evicts none for bytes (MAX_PENDING_BYTES).
    const overBytes = () => m.kind !== "accept" && this.#bytes > this.#tableBytes;
    while (this.#entries.size > MAX_PENDING_DECISIONS || overBytes()) {
      const [key, entry] = this.#entries.entries().next().value as [string, Entry];
      this.#entries.delete(key);
      this.#bytes -= entry.bytes;
      // An evicted message must be accepted again when it comes back (in an honest answer), not
      // dropped as a duplicate: else a flood that pushed out the real decision's messages, replayed
      // first, left every later honest answer useless.
      for (const x of messagesOf(entry)) if (!this.#holds(x)) forget(x);
    }
  }

  /** The candidate decisions held. */
  *decisions(): Iterable<EpochDecision> {
    for (const e of this.#entries.values()) if (e.kind === "candidate") yield e.decision;
  }

  /** Every message held for an epoch after `epoch`, each once; then holds nothing. */
  drainAfter(epoch: number): WireMessage[] {
    const out = new Set<WireMessage>();
    for (const e of this.#entries.values()) if (e.epoch > epoch) for (const m of messagesOf(e)) out.add(m);
    this.#entries.clear();
    this.#bytes = 0;
    return [...out];
  }

  #propose(m: ProposeMessage, bytes: number, now: number): void {
    const key = candidateKey(m.epoch, m.plan.deciders);
    const found = this.#entries.get(key);
    if (found?.kind === "candidate") {
      this.#offer(found, m, bytes, now);
      this.#touch(key, found);
      return;
    }
    const entry: CandidateEntry = {
      kind: "candidate",
      epoch: m.epoch,
      decision: new EpochDecision(m.epoch, m.plan.deciders, this.#me, now),
      bytes: 0,
    };
    // The proposal first: the epoch's early messages may be as many as the candidate holds.
    this.#offer(entry, m, bytes, now);
    const early = this.#entries.get(earlyKey(m.epoch));
    for (const [e, b] of early?.kind === "early" ? early.messages : []) this.#offer(entry, e, b, now);
    this.#touch(key, entry);
  }

  #early(m: AcceptMessage | ViewMessage, bytes: number, now: number): void {
    const key = earlyKey(m.epoch);
    const found = this.#entries.get(key);
    const entry: EarlyEntry =
      found?.kind === "early" ? found : { kind: "early", epoch: m.epoch, messages: new Map(), bytes: 0 };
    if (!entry.messages.has(m) && this.#fits(entry, entry.messages.size, m, bytes)) {
      entry.messages.set(m, bytes);
      this.#add(entry, bytes);
    }
    this.#touch(key, entry);
    for (const [k, e] of [...this.#entries])
      if (e.kind === "candidate" && e.epoch === m.epoch) {
        this.#offer(e, m, bytes, now);
        this.#touch(k, e);
      }
  }

  /** Feeds `m` to a candidate unless it is full (messages or bytes): a made-up one takes any number. */
  #offer(entry: CandidateEntry, m: DecisionMessage, bytes: number, now: number): void {
    const d = entry.decision;
    if (!this.#fits(entry, d.size, m, bytes)) return;
    const before = d.size;
    feed(d, m, now);
    if (d.size > before) this.#add(entry, bytes);
  }

  /**
   * Whether `entry`, holding `size` messages, has room for `m` of `bytes`: within its bytes and
   * messages, and for a view within the share up to which it takes views.
   */
  #fits(entry: Entry, size: number, m: DecisionMessage, bytes: number): boolean {
    const share = m.kind === "view" ? ENTRY_VIEW_SHARE : 1;
    return entry.bytes + bytes <= this.#entryBytes * share && size < MAX_ENTRY_MESSAGES * share;
  }

  /** Counts `bytes` taken by `entry`, which is in the table or is put in it before `take` returns. */
  #add(entry: Entry, bytes: number): void {
    entry.bytes += bytes;
    this.#bytes += bytes;
  }

  /** Whether some entry holds `m` itself. */
  #holds(m: DecisionMessage): boolean {
    for (const e of this.#entries.values()) if (e.epoch === m.epoch && entryHolds(e, m)) return true;
    return false;
  }

  #touch(key: string, entry: Entry): void {
    this.#entries.delete(key);
    this.#entries.set(key, entry);
  }
}

function entryHolds(entry: Entry, m: DecisionMessage): boolean {
  if (entry.kind === "candidate") return entry.decision.holds(m);
  return m.kind !== "propose" && entry.messages.has(m);
}

function messagesOf(entry: Entry): Iterable<DecisionMessage> {
  return entry.kind === "candidate"
    ? (entry.decision.messages() as DecisionMessage[])
    : entry.messages.keys();
}

function candidateKey(epoch: number, deciders: readonly AgentId[]): string {
  return `candidate ${epoch} ${deciders.join(" ")}`;
}

function earlyKey(epoch: number): string {
  return `early ${epoch}`;
}
