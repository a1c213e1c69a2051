import type { AgentId } from "../wire/ids.ts";
import type { AcceptMessage, ProposeMessage, ViewMessage, WireMessage } from "../wire/messages.ts";
import { EpochDecision, feed } from "./epoch-decision.ts";

/** Entries a node that knows no epoch keeps: candidate decisions and epochs' early messages. */
export const MAX_PENDING_DECISIONS = 16;
/** Accepts and views of one epoch a node that knows no epoch holds for proposals yet to come. */
export const MAX_EARLY_MESSAGES = 1024;

type DecisionMessage = ProposeMessage | AcceptMessage | ViewMessage;

/** A proposal's decision, keyed by its epoch and the deciders it names, or an epoch's early messages. */
type Entry =
  | { readonly kind: "candidate"; readonly epoch: number; readonly decision: EpochDecision }
  | { readonly kind: "early"; readonly epoch: number; readonly messages: WireMessage[] };

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
 *   answer's own exclusion plans (older proposals sent ahead of the decision). An honest answer
 *   holds the decision whole, its proposal then its accepts, and a node applies an answer's
 *   messages together (docs/protocol.md §3), so the real decision is fed last and decided before
 *   anything else arrives: however many entries a flood makes, before or after it, none evicts it.
 *   Keyed per signer, a flood of throwaway keys (free under an open contract) would fill it just
 *   the same; counting accepts of distinct deciders would too, as the deciders are the forger's.
 * - Accepts and views of an epoch are kept in its early entry (up to MAX_EARLY_MESSAGES) besides
 *   being fed to its candidates, so that a candidate proposed later (the real one after a made-up
 *   one) is fed those that came before it.
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
    const epoch = m.epoch;
    if (m.kind === "propose") {
      const key = candidateKey(epoch, m.plan.deciders);
      let entry = this.#entries.get(key);
      if (!entry) {
        const decision = new EpochDecision(epoch, m.plan.deciders, this.#me, now);
        const early = this.#entries.get(earlyKey(epoch));
        for (const e of early?.kind === "early" ? early.messages : [])
          feed(decision, e as DecisionMessage, now);
        entry = { kind: "candidate", epoch, decision };
      }
      if (entry.kind === "candidate") feed(entry.decision, m, now);
      this.#touch(key, entry);
    } else {
      const key = earlyKey(epoch);
      const entry = this.#entries.get(key) ?? { kind: "early", epoch, messages: [] };
      const held = entry.kind === "early" && entry.messages.length < MAX_EARLY_MESSAGES;
      if (held) entry.messages.push(m);
      this.#touch(key, entry);
      let fed = false;
      for (const [k, e] of [...this.#entries])
        if (e.kind === "candidate" && e.epoch === epoch) {
          feed(e.decision, m, now);
          this.#touch(k, e);
          fed = true;
        }
      if (!held && !fed) forget(m);
    }
    while (this.#entries.size > MAX_PENDING_DECISIONS) {
      const [oldest] = this.#entries.keys();
      this.#entries.delete(oldest as string);
    }
  }

  /** The candidate decisions held. */
  *decisions(): Iterable<EpochDecision> {
    for (const e of this.#entries.values()) if (e.kind === "candidate") yield e.decision;
  }

  /** Every message held for an epoch after `epoch`, each once; then holds nothing. */
  drainAfter(epoch: number): WireMessage[] {
    const out = new Set<WireMessage>();
    for (const e of this.#entries.values())
      if (e.epoch > epoch)
        for (const m of e.kind === "candidate" ? e.decision.messages() : e.messages) out.add(m);
    this.#entries.clear();
    return [...out];
  }

  #touch(key: string, entry: Entry): void {
    this.#entries.delete(key);
    this.#entries.set(key, entry);
  }
}

function candidateKey(epoch: number, deciders: readonly AgentId[]): string {
  return `candidate ${epoch} ${deciders.join(" ")}`;
}

function earlyKey(epoch: number): string {
  return `early ${epoch}`;
}
