import type { AgentId } from "../wire/ids.ts";
import type { AcceptMessage, ProposeMessage, ViewMessage, WireMessage } from "../wire/messages.ts";
import { EpochDecision, feed } from "./epoch-decision.ts";

/** Entries a node that knows no epoch keeps: candidate decisions and epochs' early messages. */
export const MAX_PENDING_DECISIONS = 16;
/**
 * Messages one entry holds: an epoch's early accepts and views, or one candidate's proposals,
 * accepts and views. A decision needs a quorum's worth, at most ~800 under the wire's cap on a
 * plan's deciders (plan-fit.ts); a made-up one would take any number (views without end). A bound
 * on messages, not bytes: a proposal, and a view carrying its accepted plan, may each be up to
 * MAX_MESSAGE_BYTES (256 KiB), so the table may hold up to 16 × 1,024 × 256 KiB = 4 GiB.
 */
export const MAX_ENTRY_MESSAGES = 1024;

type DecisionMessage = ProposeMessage | AcceptMessage | ViewMessage;

type EarlyEntry = {
  readonly kind: "early";
  readonly epoch: number;
  readonly messages: Set<AcceptMessage | ViewMessage>;
};
/** A proposal's decision, keyed by its epoch and the deciders it names, or an epoch's early messages. */
type Entry =
  | { readonly kind: "candidate"; readonly epoch: number; readonly decision: EpochDecision }
  | EarlyEntry;

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
 * - A message no entry holds any longer (evicted, or past an entry's MAX_ENTRY_MESSAGES) is
 *   forgotten: its slot is free, so it is taken again when it comes back. Kept as seen, the real
 *   proposal or accepts (public: gossip carries them) answered first and then pushed out by 16
 *   made-up proposals made every later honest answer's copies duplicates, and the node adopted
 *   nothing until another epoch was decided. So an honest answer, which holds the decision whole
 *   (its proposal then its accepts) and is applied before any other (docs/protocol.md §3), brings
 *   all of it that the table lacks, and the node adopts as it is applied, whatever a flood did
 *   before. The one exception: the real decision's candidate already full of its own deciders'
 *   messages (replayed), which takes a decision whose deciders signed more than
 *   MAX_ENTRY_MESSAGES of them.
 * - Accepts and views of an epoch are kept in its early entry besides being fed to its
 *   candidates, so that a candidate proposed later (the real one after a made-up one) is fed
 *   those that came before it.
 */
export class PendingDecisions {
  readonly #me: AgentId | null;
  /** Least recently fed first: a Map keeps its keys in insertion order. */
  readonly #entries = new Map<string, Entry>();

  constructor(me: AgentId | null) {
    this.#me = me;
  }

  /** Takes a decision message; `forget` gets each message no longer held (its slot may be taken again). */
  take(m: DecisionMessage, now: number, forget: (m: WireMessage) => void): void {
    if (m.kind === "propose") this.#propose(m, now);
    else this.#early(m, now);
    if (!this.#holds(m)) forget(m);
    while (this.#entries.size > MAX_PENDING_DECISIONS) {
      const [key, entry] = this.#entries.entries().next().value as [string, Entry];
      this.#entries.delete(key);
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
    return [...out];
  }

  #propose(m: ProposeMessage, now: number): void {
    const key = candidateKey(m.epoch, m.plan.deciders);
    const found = this.#entries.get(key);
    if (found?.kind === "candidate") {
      offer(found.decision, m, now);
      this.#touch(key, found);
      return;
    }
    const decision = new EpochDecision(m.epoch, m.plan.deciders, this.#me, now);
    // The proposal first: the epoch's early messages may be as many as the candidate holds.
    offer(decision, m, now);
    const early = this.#entries.get(earlyKey(m.epoch));
    for (const e of early?.kind === "early" ? early.messages : []) offer(decision, e, now);
    this.#touch(key, { kind: "candidate", epoch: m.epoch, decision });
  }

  #early(m: AcceptMessage | ViewMessage, now: number): void {
    const key = earlyKey(m.epoch);
    const found = this.#entries.get(key);
    const entry: EarlyEntry =
      found?.kind === "early" ? found : { kind: "early", epoch: m.epoch, messages: new Set() };
    if (entry.messages.size < MAX_ENTRY_MESSAGES) entry.messages.add(m);
    this.#touch(key, entry);
    for (const [k, e] of [...this.#entries])
      if (e.kind === "candidate" && e.epoch === m.epoch) {
        offer(e.decision, m, now);
        this.#touch(k, e);
      }
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

/** Feeds `m` to a pending candidate unless it holds its fill: a made-up one could take any number. */
function offer(d: EpochDecision, m: DecisionMessage, now: number): void {
  if (d.size < MAX_ENTRY_MESSAGES) feed(d, m, now);
}

function entryHolds(entry: Entry, m: DecisionMessage): boolean {
  if (entry.kind === "candidate") return entry.decision.holds(m);
  return m.kind !== "propose" && entry.messages.has(m);
}

function messagesOf(entry: Entry): Iterable<DecisionMessage> {
  return entry.kind === "candidate" ? (entry.decision.messages() as DecisionMessage[]) : entry.messages;
}

function candidateKey(epoch: number, deciders: readonly AgentId[]): string {
  return `candidate ${epoch} ${deciders.join(" ")}`;
}

function earlyKey(epoch: number): string {
  return `early ${epoch}`;
}
