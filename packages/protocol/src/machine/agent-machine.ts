import type { AgentProfile } from "../economics/agent.ts";
import type { Demand } from "../economics/demand.ts";
import { type Signer, verifyAgentSignature } from "../wire/agent-key.ts";
import type { Certificate, CommitBody } from "../wire/certificate.ts";
import { certificateDigest } from "../wire/certificate.ts";
import { type Contract, contractId } from "../wire/contract.ts";
import type { AgentId, ContractId } from "../wire/ids.ts";
import { MAX_MESSAGE_BYTES } from "../wire/message-codec.ts";
import {
  type AmendMessage,
  type ApproveMessage,
  type EquivocationProof,
  PROTOCOL_VERSION,
  type WireMessage,
} from "../wire/messages.ts";
import { base64ToBytes, signingBytes } from "../wire/signing.ts";
import { amendmentProblem } from "../wire/terms.ts";
import { type Amendment, Amendments } from "./amendments.ts";
import { BidHistory, type ScheduledBid } from "./bid-history.ts";
import { Certify } from "./certify.ts";
import { convicts } from "./conviction.ts";
import { carriedPlan } from "./epoch-plan.ts";
import { EquivocationEvidence } from "./equivocation-evidence.ts";
import { ExclusionPlans } from "./exclusion-plans.ts";
import type { MachineContext } from "./machine-context.ts";
import type { Equivocation, MachineAction, MachineEvent, Verdict } from "./machine-io.ts";
import { Market } from "./market.ts";
import { type EpochInfo, Membership } from "./membership.ts";
import { Outbox } from "./outbox.ts";
import { asEquivocation, planEquivocations } from "./plan-proofs.ts";
import { sharedVerdict } from "./shared-checks.ts";
import { SlotBook } from "./slot-book.ts";
import { Timers } from "./timers.ts";
import { heldForLater, type ValidationState, validate } from "./validate.ts";

/**
 * One node's view of the market as a pure state machine (sans-IO): `check` judges an incoming
 * message, `handle` applies an event and returns the actions to carry out. The same machine runs
 * in unit tests, in the libp2p node, and in the simulated network. docs/protocol.md is its spec.
 *
 * This file only routes: validation is validate.ts, who is in the market is membership.ts (with
 * the Paxos instance in epoch-decision.ts), rounds are market.ts, commits and certificates are
 * certify.ts, deadlines are timers.ts, the equivocation proofs kept are equivocation-evidence.ts.
 */

export interface AgentMachineConfig {
  readonly contract: Contract;
  /** The node's key: it signs the agent's messages, and the first epoch when the node founds it. */
  readonly signer?: Signer;
  /** The agent this node runs; absent for an observer (follows and verifies, never bids). */
  readonly profile?: AgentProfile;
  /**
   * Instead of `profile` (not with it): which bid each epoch ran with, as the node recorded it
   * (`bids()`) before a restart, so that the replayed epoch runs with the bid it ran with then.
   */
  readonly bids?: readonly ScheduledBid[];
  /**
   * This node founds the market's first epoch (docs/protocol.md §9): it was started without
   * bootstrap peers. Every other node only joins an epoch it learns of.
   */
  readonly founder?: boolean;
  /**
   * The node ran before (its key exists) but its store was found empty: as a founder it never
   * resumes a suspended founding (docs/protocol.md §9.3), since an epoch it hears is probably its
   * own network's.
   */
  readonly storeLost?: boolean;
  /** When the node started. */
  readonly now: number;
  /** The signature check; the simulator shares one memo across its nodes. Default: Ed25519. */
  readonly verify?: (m: WireMessage) => boolean;
  /** Fault injection for tests only: what the agent reports instead of its true demand (at unit price tau + a.p). */
  readonly misreport?: (demand: Demand, round: number, unitPrice: number) => Demand;
  /**
   * The wire's cap on a message, which bounds an epoch's members (plan-fit.ts). Default
   * MAX_MESSAGE_BYTES; the scale simulation lifts it to measure the full-information protocol
   * past what the wire carries (docs/scaling.md §1). Every node of a network must use the same.
   */
  readonly maxMessageBytes?: number;
}

export interface CheckOptions {
  readonly replay?: boolean;
  readonly gossip?: boolean;
  /** The peer a gossiped message came from (gossipsub's propagation source; peer id = agent id). */
  readonly from?: AgentId;
}

export type MarketStatus = "joining" | "running" | "converged" | "stalled";

export interface MachineStatus {
  readonly contractId: ContractId;
  readonly agent: AgentId | null;
  readonly status: MarketStatus;
  readonly epoch: number | null;
  readonly members: readonly AgentId[];
  /** Who decides the next epoch (the current epoch's voters). */
  readonly voters: readonly AgentId[];
  readonly member: boolean;
  readonly founder: boolean;
  readonly round: number | null;
  readonly prices: readonly number[];
  readonly residual: number | null;
  /** Demands for the open round that answer this node's prices, of those received. */
  readonly agreement: { readonly matching: number; readonly received: number } | null;
  readonly allocation: number | null;
  readonly certificate: Certificate | null;
  readonly pendingJoins: readonly AgentId[];
  /** The decision for the next epoch, while one is under way. */
  readonly decision: { readonly epoch: number; readonly view: number; readonly active: boolean } | null;
  readonly equivocations: readonly Equivocation[];
}

export interface AgentMachine {
  /**
   * Judge a decoded, schema-valid message (docs/protocol.md §5). `replay`: a stored message judged
   * at restart; what judging it would send (a probe's sync, a proof's relays, logs) is not sent.
   * `gossip`: heard by gossip, not in a sync answer to this node's request; a node that knows no
   * epoch takes no decision message so (§9.3: anyone could send it) and asks its peers instead.
   */
  check(message: WireMessage, options?: CheckOptions): Verdict;
  /**
   * The reject every node gives `message` whatever its state (contract, resource count, allowlist,
   * signature: sharedVerdict), or null. A replay asks it of the rows `check` does not accept.
   */
  sharedCheck(message: WireMessage): Verdict | null;
  handle(event: MachineEvent): MachineAction[];
  status(): MachineStatus;
  /**
   * When the machine next needs a `tick` (absolute ms, the clock of the events). The node sets one
   * timer for it instead of polling; any event may move it, so read it again after each one.
   */
  nextDeadline(): number;
  /** Every certificate this node assembled, oldest first. */
  certificates(): readonly Certificate[];
  /** The body this node's rounds settled epoch `epoch` on, or null: what commit references name. */
  committedBody(epoch: number): CommitBody | null;
  /** The messages that prove epoch `epoch`'s decision (null: the current epoch), for a peer's sync. */
  decisionEvidence(epoch: number | null): readonly WireMessage[] | null;
  /**
   * The plans that dropped members for equivocation in the newest epochs before the current one
   * (exclusion-plans.ts), oldest first: what a node that knows no epoch must judge, in this order,
   * before it adopts the current decision (docs/protocol.md §5.1).
   */
  exclusionPlans(): readonly WireMessage[];
  /** The terms in effect now (the contract, or amended terms) and their id. */
  terms(): { readonly terms: Contract; readonly id: ContractId };
  /** What is wrong with proposing `terms` as an amendment now, or null (the API's answer to a bad request). */
  amendmentProblem(terms: Contract): string | null;
  /** Amendments of the current terms this node knows, with their signers and what they need to pass. */
  amendments(): readonly AmendmentView[];
  /** The proposal and approvals of an amendment (for the ledger), or null when unknown here. */
  amendmentEvidence(id: string): readonly WireMessage[] | null;
  /**
   * The first epoch a bid changed now takes effect in (the one after the current): a `profile`
   * event handled next records its bid from this epoch on. The node records the same before
   * handing the event over, durably before any demand made with it (docs/protocol.md §10).
   */
  bidFrom(): number;
  /** Which bid each epoch runs with (BidHistory), oldest first: what a restart is built from. */
  bids(): readonly ScheduledBid[];
}

export interface AmendmentView {
  readonly id: ContractId;
  readonly terms: Contract;
  readonly proposer: AgentId;
  readonly signers: readonly AgentId[];
  /** Signers needed among the members of the ledger's latest certificate; null when there is none yet. */
  readonly needed: number | null;
}

/** Messages held for epochs not yet started, at most: past it the oldest is forgotten (taken again when resent). */
export const MAX_HELD = 4096;
/** With no deadline armed the machine still wants a look now and then. */
const IDLE_MS = 60_000;

export function createAgentMachine(config: AgentMachineConfig): AgentMachine {
  return new Machine(config);
}

class Machine implements AgentMachine {
  readonly #ctx: MachineContext;
  readonly #membership: Membership;
  readonly #market: Market;
  readonly #certify: Certify;
  readonly #amendments = new Amendments();
  readonly #verify: (m: WireMessage) => boolean;
  readonly #validation: ValidationState;
  #held: WireMessage[] = [];
  #replayHeld = false;
  readonly #equivocations = new EquivocationEvidence();
  readonly #exclusions = new ExclusionPlans();

  constructor(config: AgentMachineConfig) {
    const slots = new SlotBook();
    const signer = config.signer ?? null;
    if (config.profile && config.bids) throw new Error("agent machine: give `profile` or `bids`, not both");
    const bids = config.bids ?? (config.profile ? [{ from: 0, profile: config.profile }] : []);
    this.#ctx = {
      contract: config.contract,
      contractId: contractId(config.contract),
      me: signer?.id ?? null,
      bids: new BidHistory(signer ? bids : []),
      misreport: config.misreport ?? null,
      maxMessageBytes: config.maxMessageBytes ?? MAX_MESSAGE_BYTES,
      slots,
      timers: new Timers(),
      out: new Outbox(signer, slots, () => this.#ctx.now),
      now: config.now,
    };
    this.#verify =
      config.verify ?? ((m) => verifyAgentSignature(m.agent, signingBytes(m), base64ToBytes(m.sig)));
    this.#certify = new Certify(this.#ctx, (m, own) => this.#market.onDivergentCommit(m, own));
    this.#market = new Market(this.#ctx, {
      settled: (epoch, body) => {
        this.#certify.settle(epoch, body, this.#membership.isMember());
        this.#membership.onConverged();
      },
      bidding: () => this.#membership.isMember(),
    });
    this.#membership = new Membership(
      this.#ctx,
      this.#market,
      {
        epochStarted: (e, previous) => this.#epochStarted(e, previous),
        certificate: (epoch) => this.#certify.certificate(epoch),
        certificateByDigest: (digest) => this.#certificateByDigest(digest),
        certifies: (epoch, digest) => this.#certify.certifies(epoch, digest),
        seekCertificate: (epoch) => this.#certify.seek(epoch),
      },
      config.founder === true,
      this.#amendments,
      config.storeLost === true,
    );
    this.#validation = this.#validationState();
  }

  check(m: WireMessage, options: CheckOptions = {}): Verdict {
    const out = this.#ctx.out;
    const before = out.replaying;
    if (options.replay === true) out.replaying = true;
    try {
      return this.#judge(m, options.gossip === true, options.from);
    } finally {
      out.replaying = before;
    }
  }

  sharedCheck(m: WireMessage): Verdict | null {
    return sharedVerdict(m, this.#validation);
  }

  #judge(m: WireMessage, gossip: boolean, from: AgentId | undefined): Verdict {
    const verdict = validate(m, this.#validation);
    if (verdict.verdict === "accept" && gossip && this.#membership.unasked(m, from))
      return {
        verdict: "ignore",
        reason: "unasked",
        detail: `${m.kind} of epoch ${m.epoch} heard before any epoch`,
      };
    if (verdict.verdict === "reject" && verdict.evidence) {
      const evidence = verdict.evidence;
      const cur = this.#membership.current;
      const members = cur?.memberSet;
      const fresh = this.#equivocations.record(evidence, (agent) => members?.has(agent) === true);
      this.#ctx.out.emit({ type: "equivocation", evidence });
      // docs/protocol.md §5.1: a proof against a member of the current epoch is spread (both
      // versions: gossip drops the one a peer has seen, and the nodes holding the other one get
      // the proof) and excludes the member from the next epoch. Relayed once per new proof, so a
      // flood of conflicting messages costs at most MAX_EQUIVOCATIONS_PER_AGENT relays per agent.
      if (convicts(evidence, cur)) {
        this.#market.onConvicted(evidence.first.epoch);
        const convicted = this.#membership.convict(evidence);
        if (fresh || convicted) {
          this.#ctx.out.relay(evidence.first);
          this.#ctx.out.relay(evidence.second);
        }
      }
    }
    if (verdict.verdict === "accept") this.#convictFromPlan(m);
    // Only a demand whose signature verifies is judged `price-mismatch` (validate.ts): one that
    // does not is `bad-signature` and sends this node probing nowhere (a keyless attacker could
    // steer its syncs at a victim's node).
    if (verdict.verdict === "reject" && verdict.reason === "price-mismatch" && m.kind === "demand")
      this.#market.onMismatch(m);
    return verdict;
  }

  /**
   * A plan that drops members for equivocation carries the proofs, and validate() verified them
   * (plan-proofs.ts): this node convicts those members as if it had caught them itself, so that it
   * never admits them again, though neither version may ever reach it (docs/protocol.md §5.1).
   * Only a plan for the epoch after this node's, where validate() checked that its proofs' agents
   * are members of this node's epoch, or one a node with no epoch takes on trust, as it takes the
   * plan (without that, joiners re-admitted the equivocator: sim seed 62). A plan held for a later
   * epoch convicts nobody now; it is judged again, and convicts, once its epoch is next.
   */
  #convictFromPlan(m: WireMessage): void {
    const cur = this.#membership.current;
    if (cur && m.epoch !== cur.number + 1) return;
    // Served to joiners: one taken on trust may be anyone's, so a validated one wins (exclusion-plans.ts).
    if (cur) this.#exclusions.validated(m);
    else this.#exclusions.trusted(m);
    this.#convictOn(m);
  }

  /** Convicts the agents whose proofs `m`'s plan carries (validated, or taken on trust). */
  #convictOn(m: WireMessage): void {
    const plan = carriedPlan(m);
    if (!plan?.proofs) return;
    const cur = this.#membership.current;
    for (const evidence of planEquivocations(plan)) {
      const fresh = this.#equivocations.record(evidence, (agent) => cur?.memberSet.has(agent) === true);
      if (this.#membership.convict(evidence, m.epoch) || fresh)
        this.#ctx.out.emit({ type: "equivocation", evidence });
    }
  }

  handle(event: MachineEvent): MachineAction[] {
    const ctx = this.#ctx;
    ctx.now = event.now;
    // Held messages a replayed one releases are replayed with it: applied outside the replay they
    // adopted an epoch and signed a new proposal before the stored one was replayed, and the
    // restarted node equivocated (sim seed 17031).
    ctx.out.replaying = event.type === "message" && event.replay === true;
    try {
      this.#dispatch(event);
      this.#drainHeld();
    } finally {
      ctx.out.replaying = false;
    }
    return ctx.out.drain();
  }

  #dispatch(event: MachineEvent): void {
    const ctx = this.#ctx;
    switch (event.type) {
      case "message":
        this.#receive(event.message);
        break;
      case "tick":
        // Before the modules' own deadlines, so that what an adoption arms for now still runs.
        if (ctx.timers.due("catch-up", ctx.now)) {
          ctx.timers.clear("catch-up");
          // Adopted on trust, as a node with no epoch takes its first plan: it convicts on the
          // plan's proofs as that node does (else it could admit the equivocator again).
          for (const m of this.#membership.catchUp(this.#held)) this.#convictOn(m);
        }
        this.#membership.onTick();
        this.#market.onTick();
        this.#certify.onTick();
        // A deadline nobody re-armed must not keep the node waking in a loop.
        for (const [name, at] of ctx.timers.entries()) if (at <= ctx.now) ctx.timers.clear(name);
        break;
      case "linked":
        this.#membership.onLinked();
        break;
      case "bootstrap-peer":
        this.#membership.onBootstrapPeer(event.peer);
        break;
      case "other-body":
        this.#certify.onOtherBody(event.epoch, event.agent);
        break;
      case "no-decision":
        this.#membership.onNoDecision(event.peer);
        break;
      case "sync-ended":
        this.#market.onSyncEnded(event.answered, event.timeoutMs);
        break;
      case "convicted":
        this.#restoreConvicted(event.proofs);
        break;
      case "resume":
        this.#market.resume();
        this.#certify.resume(this.#membership.current?.number ?? null, this.#membership.isMember());
        this.#membership.resume();
        break;
      case "leave":
        this.#membership.leave();
        break;
      case "profile":
        ctx.bids.change(this.bidFrom(), event.profile);
        this.#membership.profileChanged();
        break;
      case "amend":
        this.#proposeAmendment(event.terms);
        break;
      case "approve":
        this.#approve(event.amendment);
        break;
    }
  }

  /** Proofs held before a restart (the node re-checked them): their agents are convicted again. */
  #restoreConvicted(proofs: readonly EquivocationProof[]): void {
    const members = this.#membership.current?.memberSet;
    for (const proof of proofs) {
      const evidence = asEquivocation(proof);
      this.#equivocations.record(evidence, (agent) => members?.has(agent) === true);
      this.#membership.restoreConvicted(evidence);
    }
  }

  #drainHeld(): void {
    while (this.#replayHeld) {
      this.#replayHeld = false;
      this.#applyHeld();
    }
  }

  nextDeadline(): number {
    return this.#ctx.timers.next() ?? this.#ctx.now + IDLE_MS;
  }

  certificates(): readonly Certificate[] {
    return this.#certify.all();
  }

  decisionEvidence(epoch: number | null): readonly WireMessage[] | null {
    return this.#membership.evidence(epoch);
  }

  exclusionPlans(): readonly WireMessage[] {
    const cur = this.#membership.current;
    return cur ? this.#exclusions.before(cur.number) : [];
  }

  bidFrom(): number {
    return (this.#membership.current?.number ?? -1) + 1;
  }

  bids(): readonly ScheduledBid[] {
    return this.#ctx.bids.entries();
  }

  committedBody(epoch: number): CommitBody | null {
    return this.#certify.committed(epoch);
  }

  /** An accepted message, from the network or the store: route it by kind and epoch. */
  #receive(m: WireMessage): void {
    const ctx = this.#ctx;
    ctx.slots.record(m);
    if (this.#membership.isNews(m)) this.#membership.heard(m);
    const cur = this.#membership.current;
    if (m.kind === "join") {
      this.#membership.onJoin(m);
      // A join names its sender's epoch. Two nodes each outside the other's newest epoch hear
      // only each other's joins, so a later epoch named there is the one news of it (sim seed
      // 1197: the sole member of an epoch learned of it only this way).
      if (cur && m.epoch > cur.number) this.#membership.wantDecision(cur.number + 1);
      return;
    }
    // The rule validate's verdict reports as `held`, so that a node takes a resend of what the
    // bounded queue pushed out (machine-io.ts).
    if (heldForLater(m, cur?.number ?? null)) {
      if (!cur && m.agent !== ctx.me) this.#membership.noteNetwork(m);
      this.#hold(m);
      if (cur) this.#membership.wantDecision(cur.number + 1);
      return;
    }
    if (m.kind === "propose" || m.kind === "accept" || m.kind === "view") {
      this.#membership.onDecisionMessage(m);
      return;
    }
    if (!cur) return; // unreachable: before any epoch every other kind is held
    switch (m.kind) {
      case "demand":
        if (m.epoch === cur.number) this.#market.onDemand(m);
        return;
      case "commit":
        this.#certify.onCommit(m);
        // A proposal held back for want of this epoch's certificate may be judged now.
        if (this.#membership.awaitsLink()) this.#membership.advance();
        return;
      case "leave":
        this.#membership.onLeave(m);
        return;
      case "alive":
        this.#membership.onAlive(m);
        return;
      case "rebid":
        this.#membership.onRebid(m);
        return;
      case "amend":
        this.#amendments.onAmend(m);
        this.#membership.advance();
        return;
      case "approve":
        this.#amendments.onApprove(m);
        this.#membership.advance();
        return;
    }
  }

  #proposeAmendment(terms: Contract): void {
    const cur = this.#membership.current;
    const me = this.#ctx.me;
    if (!cur || !me || this.amendmentProblem(terms) !== null) return;
    const m = this.#ctx.out.publish<AmendMessage>({
      v: PROTOCOL_VERSION,
      kind: "amend",
      contract: this.#ctx.contractId,
      agent: me,
      epoch: cur.number,
      terms,
    });
    if (m) {
      this.#amendments.onAmend(m);
      this.#ctx.out.log("info", "amendment proposed", { id: contractId(terms) });
      this.#membership.advance();
    }
  }

  #approve(id: string): void {
    const cur = this.#membership.current;
    const me = this.#ctx.me;
    if (!cur || !me || !this.#membership.isMember() || !this.#amendments.has(id)) return;
    const m = this.#ctx.out.publish<ApproveMessage>({
      v: PROTOCOL_VERSION,
      kind: "approve",
      contract: this.#ctx.contractId,
      agent: me,
      epoch: cur.number,
      amendment: id as ApproveMessage["amendment"],
    });
    if (m) {
      this.#amendments.onApprove(m);
      this.#membership.advance();
    }
  }

  #certificateByDigest(digest: string): Certificate | null {
    return this.#certify.all().find((c) => certificateDigest(c) === digest) ?? null;
  }

  terms(): { terms: Contract; id: ContractId } {
    const cur = this.#membership.current;
    return cur
      ? { terms: cur.terms, id: cur.termsId }
      : { terms: this.#ctx.contract, id: this.#ctx.contractId };
  }

  amendmentProblem(terms: Contract): string | null {
    if (!this.#membership.isMember()) return "only a member of the current epoch may propose an amendment";
    const { terms: current, id } = this.terms();
    return amendmentProblem(current, id, terms);
  }

  amendments(): readonly AmendmentView[] {
    const { id } = this.terms();
    const tip = this.#membership.tip();
    const cert = tip ? this.#certificateByDigest(tip) : null;
    const members = new Set<string>(cert?.commit.members ?? []);
    return this.#amendments.pending(id).map((a: Amendment) => ({
      id: a.id,
      terms: a.terms,
      proposer: a.proposal.agent,
      signers: [a.proposal.agent, ...[...a.approvals.keys()].filter((k) => k !== a.proposal.agent)],
      needed: cert ? Math.max(1, Math.ceil(this.terms().terms.quorum * members.size - 1e-9)) : null,
    }));
  }

  amendmentEvidence(id: string): readonly WireMessage[] | null {
    const a = this.#amendments.get(id);
    return a ? [a.proposal, ...a.approvals.values()] : null;
  }

  #hold(m: WireMessage): void {
    // An evicted message must be accepted again when it comes back (sync), not ignored as a duplicate.
    if (this.#held.length >= MAX_HELD) this.#ctx.slots.forget(this.#held.shift() as WireMessage);
    this.#held.push(m);
  }

  #epochStarted(e: EpochInfo, _previous: EpochInfo | null): void {
    const ctx = this.#ctx;
    const plan = e.plan;
    const prices = plan.base ? [...plan.base.prices] : [...ctx.contract.initialPrices];
    this.#certify.start(e.number, plan.members, plan.ledger);
    this.#exclusions.adopted(e.number, e.evidence);
    ctx.out.emit({
      type: "epoch-started",
      epoch: e.number,
      members: plan.members,
      base: plan.base,
      plan,
      member: this.#membership.isMember(),
    });
    this.#market.stop();
    this.#market.start(
      {
        number: e.number,
        members: plan.members,
        terms: e.terms,
        termsId: e.termsId,
        amended: plan.terms !== null,
        ledger: plan.ledger,
      },
      prices,
    );
    if (_previous && e.termsId !== _previous.termsId)
      ctx.out.emit({
        type: "terms-changed",
        epoch: e.number,
        terms: e.terms,
        evidence: this.amendmentEvidence(e.termsId),
        ledger: plan.ledger,
      });
    for (const m of this.#membership.takeRequeued()) this.#hold(m);
    this.#replayHeld = true;
  }

  /** Messages held for an epoch that has now started are judged again and applied. */
  #applyHeld(): void {
    const cur = this.#membership.current;
    if (!cur) return;
    const ready = this.#held.filter((m) => m.kind !== "join" && m.epoch <= cur.number + 1);
    if (ready.length === 0) return;
    this.#held = this.#held.filter((m) => m.kind !== "join" && m.epoch > cur.number + 1);
    for (const m of ready) {
      if (m.kind !== "join" && m.epoch < cur.number && !(m.kind === "commit" && m.epoch === cur.number - 1))
        continue;
      this.#ctx.slots.forget(m);
      const verdict = this.check(m);
      if (verdict.verdict === "accept") this.#receive(m);
      else if (verdict.verdict === "reject")
        this.#ctx.out.emit({ type: "dropped", reason: verdict.reason, message: m });
    }
    if (this.#held.length > 0) this.#membership.wantDecision(cur.number + 1);
  }

  #validationState(): ValidationState {
    const ctx = this.#ctx;
    const membership = this.#membership;
    const market = this.#market;
    const held = () => this.#held;
    const policy = ctx.contract.membership;
    const allowlist = policy.policy === "allowlist" ? new Set(policy.members) : null;
    return {
      contractId: ctx.contractId,
      resources: ctx.contract.resources.length,
      maxMessageBytes: ctx.maxMessageBytes,
      allowed: (agent) => allowlist === null || allowlist.has(agent),
      slots: ctx.slots,
      get epoch() {
        const cur = membership.current;
        if (!cur) return null;
        return {
          number: cur.number,
          members: cur.plan.members,
          memberSet: cur.memberSet,
          voters: cur.plan.voters,
          terms: cur.terms,
          termsId: cur.termsId,
          round: market.epoch === cur.number ? (market.round() ?? 0) : 0,
          pricesAt: (round: number) => (market.epoch === cur.number ? market.pricesAt(round) : undefined),
        };
      },
      get previous() {
        const prev = membership.previous;
        return prev
          ? {
              number: prev.number,
              members: prev.plan.members,
              memberSet: prev.memberSet,
              voters: prev.plan.voters,
              terms: prev.terms,
              termsId: prev.termsId,
            }
          : null;
      },
      couldJoin: (agent, epoch) =>
        membership.knows(agent) ||
        held().some((m) => m.kind === "propose" && m.epoch <= epoch && m.plan.members.includes(agent)),
      verify: this.#verify,
    };
  }

  status(): MachineStatus {
    const ctx = this.#ctx;
    const cur = this.#membership.current;
    const member = this.#membership.isMember();
    const view = this.#market.view();
    const epoch = cur?.number ?? null;
    let status: MarketStatus = "joining";
    if (cur && view && (member || !ctx.bids.latest)) {
      status = view.status;
      if (view.status === "running" && ctx.now - view.openedAt >= ctx.contract.timeouts.roundMs)
        status = "stalled";
    }
    const committed = this.#certify.committed(epoch);
    const me = ctx.me;
    const own =
      me && cur ? (committed?.allocations.find((a) => a.agent === me)?.x ?? view?.lastX ?? null) : null;
    return {
      contractId: ctx.contractId,
      agent: ctx.bids.latest ? me : null,
      status,
      epoch,
      members: cur?.plan.members ?? [],
      voters: cur?.plan.voters ?? [],
      member,
      founder: this.#membership.founder,
      round: view?.round ?? null,
      prices: committed?.prices ?? view?.prices ?? [],
      residual: view?.residual ?? null,
      agreement: view?.status === "running" ? view.agreement : null,
      allocation: own,
      certificate: this.#certify.certificate(epoch) ?? this.#certify.latest(),
      pendingJoins: this.#membership.liveJoiners(),
      decision: this.#membership.decisionView(),
      equivocations: this.#equivocations.list(),
    };
  }
}
