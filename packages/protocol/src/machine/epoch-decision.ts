import type { AgentId, Digest } from "../wire/ids.ts";
import type { AcceptMessage, EpochPlan, ProposeMessage, ViewMessage, WireMessage } from "../wire/messages.ts";
import { majority, planDigest, proposerOf } from "./epoch-plan.ts";
import { bucket } from "./nested-map.ts";

export interface Accepted {
  readonly view: number;
  readonly plan: EpochPlan;
  readonly digest: Digest;
}

export interface Decided {
  readonly epoch: number;
  readonly view: number;
  readonly plan: EpochPlan;
  /** The proposal and a majority of accepts: what proves the decision to anyone (sync serves it). */
  readonly evidence: readonly WireMessage[];
}

/**
 * Single-decree Paxos (Lamport's Synod) for one epoch number among a fixed set of deciders, with
 * crash faults: docs/protocol.md §9. Views play the role of ballots; each view has one proposer
 * (`proposerOf`), so two proposals never compete within a view. A proposer in view v > 0 first
 * gathers view messages (promises) from a majority and must re-propose the plan accepted in the
 * highest view among them; view 0 needs no promises because no earlier view exists. A plan is
 * decided once its proposer and enough acceptors make a majority for one view.
 *
 * This object only records messages and answers questions; the membership module decides when
 * this node publishes, and feeds its own messages back in through the same methods.
 */
export class EpochDecision {
  readonly epoch: number;
  readonly deciders: readonly AgentId[];
  readonly #deciderSet: ReadonlySet<AgentId>;
  readonly #me: AgentId | null;
  /** The view this node is in: it proposes (if it is the proposer) or times out from here. */
  view = 0;
  /** The highest view this node promised or accepted in: it accepts nothing from a lower one. */
  promised = 0;
  /** The plan this node accepted last (its own proposal counts). */
  accepted: Accepted | null = null;
  /** Some decider proposed or moved views: the decision is under way even if we saw no reason. */
  active = false;
  /** When this node entered `view` (or became active): view timeouts count from here. */
  viewSince: number;
  readonly #proposals = new Map<number, ProposeMessage>();
  /**
   * Each proposal's plan digest, hashed once as it is taken: every accept fed compares against it,
   * and a plan may be 256 KiB (hashed per accept, one answer of made-up accepts cost gigabytes).
   */
  readonly #digests = new Map<number, Digest>();
  readonly #accepts = new Map<number, Map<AgentId, AcceptMessage>>();
  readonly #promises = new Map<number, Map<AgentId, ViewMessage>>();
  #held = 0;
  #decided: Decided | null = null;

  constructor(epoch: number, deciders: readonly AgentId[], me: AgentId | null, now: number) {
    this.epoch = epoch;
    this.deciders = deciders;
    this.#deciderSet = new Set(deciders);
    this.#me = me;
    this.viewSince = now;
  }

  isDecider(id: AgentId | null): boolean {
    return id !== null && this.#deciderSet.has(id);
  }

  proposer(view: number): AgentId {
    return proposerOf(this.epoch, view, this.deciders);
  }

  get quorum(): number {
    return majority(this.deciders.length);
  }

  onPropose(m: ProposeMessage, now: number): void {
    if (m.epoch !== this.epoch || m.agent !== this.proposer(m.view) || this.#proposals.has(m.view)) return;
    this.#proposals.set(m.view, m);
    this.#digests.set(m.view, planDigest(this.epoch, m.plan));
    this.#held += 1;
    this.#activate(now);
    if (m.agent === this.#me) this.#accepted(m.view, m.plan, now);
    this.#check(m.view);
  }

  onAccept(m: AcceptMessage, now: number): void {
    if (m.epoch !== this.epoch || !this.#deciderSet.has(m.agent)) return;
    const book = bucket(this.#accepts, m.view);
    if (book.has(m.agent)) return;
    book.set(m.agent, m);
    this.#held += 1;
    this.#activate(now);
    if (m.agent === this.#me) {
      const proposal = this.#proposals.get(m.view);
      if (proposal && this.#digests.get(m.view) === m.plan) this.#accepted(m.view, proposal.plan, now);
    }
    this.#check(m.view);
  }

  onView(m: ViewMessage, now: number): void {
    if (m.epoch !== this.epoch || !this.#deciderSet.has(m.agent)) return;
    const book = bucket(this.#promises, m.view);
    if (book.has(m.agent)) return;
    book.set(m.agent, m);
    this.#held += 1;
    this.#activate(now);
    if (m.agent === this.#me) {
      this.promised = Math.max(this.promised, m.view);
      this.#enter(m.view, now);
    }
  }

  /** The highest view some other decider has moved to: this node follows it there. */
  highestView(): number {
    let high = this.view;
    for (const v of this.#promises.keys()) high = Math.max(high, v);
    for (const v of this.#proposals.keys()) high = Math.max(high, v);
    return high;
  }

  promisesFor(view: number): number {
    return this.#promises.get(view)?.size ?? 0;
  }

  /**
   * Paxos's rule for a proposer in `view`: the plan accepted in the highest view among its
   * promises. `possible`: whether a plan could have been chosen at all; one that could not (no
   * honest acceptor takes it) is passed over.
   */
  constrainedPlan(view: number, possible: (plan: EpochPlan) => boolean = () => true): EpochPlan | null {
    let best: { view: number; plan: EpochPlan } | null = null;
    for (const m of this.#promises.get(view)?.values() ?? [])
      if (m.accepted && (best === null || m.accepted.view > best.view) && possible(m.accepted.plan))
        best = m.accepted;
    return best?.plan ?? null;
  }

  proposal(view: number): ProposeMessage | undefined {
    return this.#proposals.get(view);
  }

  /** The proposal this node should accept now, if any: the newest one not below its promise. */
  acceptable(): ProposeMessage | null {
    let best: ProposeMessage | null = null;
    for (const [view, m] of this.#proposals)
      if (view >= this.promised && (this.accepted?.view ?? -1) < view && (best === null || view > best.view))
        best = m;
    return best;
  }

  decided(): Decided | null {
    return this.#decided;
  }

  /** Every message this decision holds, for a peer that missed some (sync). */
  messages(): WireMessage[] {
    const out: WireMessage[] = [...this.#proposals.values()];
    for (const book of this.#accepts.values()) out.push(...book.values());
    for (const book of this.#promises.values()) out.push(...book.values());
    return out;
  }

  /**
   * The deciders whose say in `view` this node has not heard, for a catch-up that names them
   * (docs/protocol.md §9.3): every decider but this node of which it holds no accept of `view` or
   * later and no view or proposal of a later view, and the proposer of `view`, or of any later
   * view it holds accepts of, while that proposal is missing. A promise of `view` itself does not
   * count: its sender may accept next. Accepts of a later view do not move this node there
   * (`highestView`), and without that view's proposal they decide nothing. At 100 node processes
   * the catch-up asked for the whole epoch's decision every half round (the proposal and ~100
   * accepts) when a node lacked a few accepts, and 91% of those requests timed out.
   */
  lacking(view: number): AgentId[] {
    const heard = new Set<AgentId>();
    for (const [v, book] of this.#accepts) if (v >= view) for (const id of book.keys()) heard.add(id);
    for (const [v, book] of this.#promises) if (v > view) for (const id of book.keys()) heard.add(id);
    for (const [v, m] of this.#proposals) if (v > view) heard.add(m.agent);
    if (this.#proposals.has(view)) heard.add(this.proposer(view));
    for (const v of [view, ...this.#accepts.keys()])
      if (v >= view && !this.#proposals.has(v)) heard.delete(this.proposer(v));
    return this.deciders.filter((id) => id !== this.#me && !heard.has(id));
  }

  /** How many messages this decision holds (`messages().length`). */
  get size(): number {
    return this.#held;
  }

  /** Whether `m` itself is held here (not merely one for its slot). */
  holds(m: WireMessage): boolean {
    if (m.kind === "propose") return this.#proposals.get(m.view) === m;
    if (m.kind === "accept") return this.#accepts.get(m.view)?.get(m.agent) === m;
    if (m.kind === "view") return this.#promises.get(m.view)?.get(m.agent) === m;
    return false;
  }

  #accepted(view: number, plan: EpochPlan, now: number): void {
    if (this.accepted && this.accepted.view >= view) return;
    this.accepted = { view, plan, digest: planDigest(this.epoch, plan) };
    this.promised = Math.max(this.promised, view);
    this.#enter(view, now);
  }

  #enter(view: number, now: number): void {
    if (view > this.view) {
      this.view = view;
      this.viewSince = now;
    }
  }

  #activate(now: number): void {
    if (this.active) return;
    this.active = true;
    this.viewSince = now;
  }

  #check(view: number): void {
    if (this.#decided) return;
    const proposal = this.#proposals.get(view);
    if (!proposal) return;
    const digest = this.#digests.get(view);
    const accepts = [...(this.#accepts.get(view)?.values() ?? [])].filter(
      (a) => a.plan === digest && a.agent !== proposal.agent,
    );
    if (accepts.length + 1 < this.quorum) return;
    this.#decided = {
      epoch: this.epoch,
      view,
      plan: proposal.plan,
      evidence: [proposal, ...accepts.slice(0, this.quorum - 1)],
    };
  }
}

/** Hands a decision message to `d` by its kind. */
export function feed(d: EpochDecision, m: ProposeMessage | AcceptMessage | ViewMessage, now: number): void {
  if (m.kind === "propose") d.onPropose(m, now);
  else if (m.kind === "accept") d.onAccept(m, now);
  else d.onView(m, now);
}
