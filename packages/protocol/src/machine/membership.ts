import type { AgentProfile } from "../economics/agent.ts";
import { type Certificate, certificateDigest } from "../wire/certificate.ts";
import { type Contract, contractId } from "../wire/contract.ts";
import type { AgentId, ContractId, Digest } from "../wire/ids.ts";
import {
  type AcceptMessage,
  type AliveMessage,
  EPOCH_CAUSES,
  type EpochBase,
  type EpochCause,
  type EpochPlan,
  type EquivocationProof,
  type JoinMessage,
  type LeaveMessage,
  MAX_LEAVE_SEQ,
  MAX_PLAN_PROOFS,
  PROTOCOL_VERSION,
  type ProposeMessage,
  type RebidMessage,
  slotOf,
  type Unsigned,
  type ViewMessage,
  type WireMessage,
} from "../wire/messages.ts";
import type { Amendments } from "./amendments.ts";
import { BootstrapPeers } from "./bootstrap-peers.ts";
import { Convicted } from "./conviction.ts";
import {
  afterAsk,
  asksBriskly,
  type DecisionAskPace,
  heardEpochAt,
  initialAskPace,
} from "./decision-ask-pace.ts";
import { catchUpNames } from "./decision-catch-up.ts";
import { type Decided, EpochDecision, feed } from "./epoch-decision.ts";
import { foundingPlan, majority, planDigest, sortedUnique } from "./epoch-plan.ts";
import { answeredEmpty, type FoundingGate, heardEpoch, OPEN_GATE, suspenders } from "./founding-gate.ts";
import { heartbeatMs, joinerAnnounceMs, joinerLiveMs, silenceMs, stuckHeardMs } from "./heartbeat.ts";
import { leaveResendMs, leaveWaitMs, showsAdopted } from "./leave-stay.ts";
import { judgeLink, type LinkVerdict } from "./ledger-link.ts";
import type { MachineContext } from "./machine-context.ts";
import type { Equivocation } from "./machine-io.ts";
import { PendingDecisions } from "./pending-decisions.ts";
import { fitJoiners } from "./plan-fit.ts";
import { asPlanProof } from "./plan-proofs.ts";

/** An epoch this node adopted: the decided plan and the messages that prove it. */
export interface EpochInfo {
  readonly number: number;
  readonly plan: EpochPlan;
  readonly memberSet: ReadonlySet<AgentId>;
  readonly evidence: readonly WireMessage[];
  /** The terms in effect (the contract, or the plan's amended terms) and their id. */
  readonly terms: Contract;
  readonly termsId: ContractId;
  /** When this node adopted the epoch: a period slot counts from here. */
  readonly startedAt: number;
}

/** What membership asks of the rounds of the current epoch. */
export interface MarketProbe {
  /** Members still missing from a round open for `roundMs`, or null when the round is not stuck. */
  stuck(): AgentId[] | null;
  /** When the open round opened, or null when none is open. */
  openSince(): number | null;
  /** The timeout of this node's last ended `messages` sync request, or null before one ended. */
  syncWaitMs(): number | null;
  /** Members that bid in the current epoch. */
  bidders(): ReadonlySet<AgentId>;
  /** When the epoch settled, or null while it runs. */
  settledAt(): number | null;
  /** The bid the current epoch runs with. */
  profile(): AgentProfile | null;
  converged(): boolean;
  base(): EpochBase | null;
}

export interface MembershipHooks {
  /** A decided epoch begins: start its rounds and its certificate book. */
  epochStarted(epoch: EpochInfo, previous: EpochInfo | null): void;
  /** The certificate this node assembled for `epoch`, if any. */
  certificate(epoch: number): Certificate | null;
  /** Any certificate this node holds with this digest (the ledger's tip, to count an amendment's quorum). */
  certificateByDigest(digest: Digest): Certificate | null;
  /** A quorum of `epoch`'s members signed a commit body with this digest, among the commits held. */
  certifies(epoch: number, digest: Digest): boolean;
  /** Ask peers for `epoch`'s commits: a proposal links to its certificate, not held here. */
  seekCertificate(epoch: number): void;
}

/** A member dropped for silence is kept out 2^strikes round timeouts, at most 2^6. */
const MAX_STRIKES = 6;
/** View timeouts double per view up to this exponent (HotStuff's pacemaker backs off the same way). */
const MAX_BACKOFF = 4;

/**
 * Who is in the market (docs/protocol.md §9). Epoch E+1 is decided by a Paxos instance among epoch
 * E's members (EpochDecision); this module decides when this node wants a change (someone joins,
 * leaves, or is silent), proposes when it is its view's proposer, accepts, follows and times out
 * views, and adopts decided epochs. The first epoch is decided by the founder alone.
 */
export class Membership {
  readonly #ctx: MachineContext;
  readonly #market: MarketProbe;
  readonly #hooks: MembershipHooks;
  readonly #founder: boolean;
  readonly #startedAt: number;
  readonly #amendments: Amendments;
  /** Members of the current epoch whose bid changed: each wants a new slot. */
  readonly #rebids = new Set<AgentId>();
  #rebidSeq = 0;
  current: EpochInfo | null = null;
  previous: EpochInfo | null = null;
  /** The decision for the epoch after the current one (or for epoch 0, on a founder). */
  #decision: EpochDecision | null = null;
  /** Before any epoch: the decisions its answers bring (pending-decisions.ts). */
  readonly #pending: PendingDecisions;
  /** Agents asking to join, with when we last heard them: a joiner that goes quiet expires. */
  readonly #joins = new Map<AgentId, { message: JoinMessage; seenAt: number }>();
  #offListLogged = false;
  #overflowLogged = false;
  #unfoundableLogged = false;
  /** Each agent's latest join `seq` seen: a join no later than it is a replay, not news. */
  readonly #joinSeqs = new Map<AgentId, number>();
  readonly #leaves = new Set<AgentId>();
  /** When each agent was last heard from: the liveness of a converged epoch's members. */
  readonly #seen = new Map<AgentId, number>();
  /** Members dropped for silence, kept out until then (a key that never bids cannot stall again at once). */
  readonly #snubbed = new Map<AgentId, number>();
  /** Times each agent was dropped for silence since it last saw an epoch through: the back-off doubles. */
  readonly #strikes = new Map<AgentId, number>();
  readonly #lastAlive = new Map<AgentId, AliveMessage>();
  /** Agents proven to equivocate while members (conviction.ts): left out of plans, never admitted. */
  readonly #convicted = new Convicted();
  #joinSeq = 0;
  #leaving = false;
  /** The `seq` of this leaving node's next `leave` of the current epoch (0: its first, sent without). */
  #leaveSeq = 0;
  /** Leaving: the first epoch adopted without this node, which it stays to see its members hold. */
  #leftOutOf: number | null = null;
  #left = false;
  /** A founder's founding: suspended by such a message until answers show no decided epoch. */
  #gate: FoundingGate = OPEN_GATE;
  /** This node ran before and lost its store: a suspended founding never resumes (§9.3). */
  readonly #storeLost: boolean;
  /** When this node first wanted the change it wants now (batching, and its own view timeout). */
  #wantSince: number | null = null;
  #lastDecisionSync = Number.NEGATIVE_INFINITY;
  /** Catch-ups on the decision under way sent so far: whose turn it is to be named (decision-catch-up.ts). */
  #decisionCatchUps = 0;
  #lastLinked = Number.NEGATIVE_INFINITY;
  /** The joiner's next re-announcement interval: announceMs, doubling up to joinerAnnounceMs (§9.4). */
  #announceEvery: number;
  /** A node without an epoch: how often it asks for the current decision (decision-ask-pace.ts). */
  #askPace: DecisionAskPace;
  readonly #bootstrap = new BootstrapPeers();
  /** Messages accepted into a pending decision that an adoption made obsolete: to judge again. */
  #requeue: WireMessage[] = [];
  /** The proposal this decider holds back until it can judge its ledger link (ledger-link.ts). */
  #unlinked: ProposeMessage | null = null;
  /** The promise's plan this node, as a view's proposer, holds back until it can judge its link. */
  #unlinkedPromise: EpochPlan | null = null;
  #advancing = false;
  #again = false;

  constructor(
    ctx: MachineContext,
    market: MarketProbe,
    hooks: MembershipHooks,
    founder: boolean,
    amendments: Amendments,
    storeLost = false,
  ) {
    this.#ctx = ctx;
    this.#amendments = amendments;
    this.#market = market;
    this.#hooks = hooks;
    this.#founder = founder && ctx.me !== null;
    this.#storeLost = storeLost;
    this.#startedAt = ctx.now;
    this.#pending = new PendingDecisions(ctx.me, ctx.maxMessageBytes);
    const { announceMs } = ctx.contract.timeouts;
    this.#announceEvery = announceMs;
    this.#askPace = initialAskPace(ctx.contract.timeouts);
    if (this.#founder && ctx.me) {
      this.#decision = new EpochDecision(0, [ctx.me], ctx.me, ctx.now);
      ctx.timers.set("found", ctx.now + announceMs);
    } else {
      ctx.timers.set("decision-sync", ctx.now + announceMs);
    }
    if (ctx.bids.latest && ctx.me) ctx.timers.set("announce", ctx.now);
  }

  // ---- views -------------------------------------------------------------------------------

  get founder(): boolean {
    return this.#founder;
  }

  isMember(): boolean {
    const me = this.#ctx.me;
    return me !== null && this.current?.memberSet.has(me) === true;
  }

  /** A member now, an agent asking to join: one that could be in a later epoch. */
  knows(agent: AgentId): boolean {
    return this.current?.memberSet.has(agent) === true || this.#joins.has(agent);
  }

  /** Joiners a plan may admit, first heard first (a Map keeps its keys in insertion order). */
  liveJoiners(): AgentId[] {
    const { now, contract } = this.#ctx;
    const horizon = now - joinerLiveMs(contract.timeouts, this.#agentsKnown());
    const out: AgentId[] = [];
    for (const [id, j] of this.#joins) {
      if (j.seenAt < horizon) {
        this.#joins.delete(id);
        this.#ctx.slots.forget(j.message);
        continue;
      }
      if ((this.#snubbed.get(id) ?? Number.NEGATIVE_INFINITY) > now) continue;
      if (this.#convicted.has(id)) continue;
      // A joiner that has not caught up with our epoch could not bid in the next one: wait until
      // its announcement says it knows the current epoch (it learns decisions by sync meanwhile).
      if (this.current && j.message.epoch < this.current.number) continue;
      if (!this.current?.memberSet.has(id)) out.push(id);
    }
    return out;
  }

  /** The current epoch's members and the joiners heard from: what joins' timing scales with. */
  #agentsKnown(): number {
    const members = this.current?.memberSet;
    let joiners = 0;
    for (const id of this.#joins.keys()) if (!members?.has(id)) joiners++;
    return (members?.size ?? 0) + joiners;
  }

  decisionView(): { epoch: number; view: number; active: boolean } | null {
    const d = this.#decision;
    return d && (d.active || this.#wantSince !== null)
      ? { epoch: d.epoch, view: d.view, active: d.active }
      : null;
  }

  /** The messages proving epoch `epoch`'s decision (for a peer's sync), if this node holds them. */
  evidence(epoch: number | null): readonly WireMessage[] | null {
    if (epoch === null || epoch === this.current?.number) return this.current?.evidence ?? null;
    if (epoch === this.previous?.number) return this.previous.evidence;
    const d = this.#decision?.epoch === epoch ? this.#decision : null;
    return d ? d.messages() : null;
  }

  // ---- messages ------------------------------------------------------------------------------

  /**
   * A proof that `agent`, a member of the current epoch, equivocated (conviction.ts judged it): the
   * next epoch this node proposes leaves it out, at once (docs/protocol.md §5.1). True when news.
   * `droppedBy`: the epoch of the plan whose proofs convicted it, a plan that already leaves it out.
   */
  convict(proof: Equivocation, droppedBy: number | null = null): boolean {
    if (!this.#convicted.add(proof)) return false;
    const kept = asPlanProof(proof);
    if (kept) this.#ctx.out.emit({ type: "convicted", proof: kept });
    const epoch = this.current?.number ?? null;
    if (droppedBy !== null)
      this.#ctx.out.log("warn", "member proven to equivocate by the plan that drops it", {
        agent: proof.agent,
        epoch,
        plan: droppedBy,
      });
    else if (this.current?.memberSet.has(proof.agent))
      this.#ctx.out.log("warn", "member proven to equivocate: wanting the next epoch without it", {
        agent: proof.agent,
        epoch,
      });
    // check() has no event to act in: the next tick (now) drives the change.
    this.#ctx.timers.setEarliest("conviction", this.#ctx.now);
    return true;
  }

  /**
   * A proof this node convicted `proof.agent` on before it restarted: convicted again, silently
   * (the node logged it then), so that it is never admitted and, while a member, is proposed out.
   */
  restoreConvicted(proof: Equivocation): void {
    if (this.#convicted.add(proof)) this.#ctx.timers.setEarliest("conviction", this.#ctx.now);
  }

  heard(m: WireMessage): void {
    this.#seen.set(m.agent, this.#ctx.now);
    const out = this.#leftOutOf;
    // A member that goes on holds the epoch without us: it can give it to the others (§9.4).
    if (
      out !== null &&
      m.agent !== this.#ctx.me &&
      this.current?.memberSet.has(m.agent) &&
      showsAdopted(m, out)
    )
      this.#leaveNow();
  }

  /** The current epoch converged: its members bid every round, so their back-off is forgiven. */
  onConverged(): void {
    for (const id of this.current?.plan.members ?? []) this.#strikes.delete(id);
    this.advance();
  }

  /**
   * A peer again after none (§9.4): a join or decision request sent meanwhile reached no one. The
   * next re-announcement would come only after the back-off: 50 nodes in one process, every
   * node's first join went out before its first connection, none reached the founder, and the
   * founding waited for the third joins of some, 3.7 s after start.
   */
  onLinked(): void {
    // At most once per announceMs: a peer can send its subscriptions again and again.
    const { now, contract } = this.#ctx;
    if (now - this.#lastLinked < contract.timeouts.announceMs) return;
    this.#lastLinked = now;
    if (this.#joining()) this.#announce();
    if (!this.current && !this.#founder) this.#ctx.out.sync({ type: "decision", epoch: null });
  }

  /**
   * A message with an epoch, from someone else, before we have one: a network may already run. A
   * founder suspends founding (it cannot tell a real network from one throwaway key yet) until
   * it adopts the decision its asks bring, or their answers show there is none (founding-gate.ts).
   */
  noteNetwork(m: WireMessage): void {
    if (this.current) return;
    const { now, contract } = this.#ctx;
    if (this.#founder) this.#suspendFounding(m);
    // The decision exists now: ask at once, and briskly for a while. Only an answer to an ask is
    // taken (unasked), and one peer asked may not hold it yet (at a founding, most do not).
    const pace = heardEpochAt(this.#askPace, m.epoch, m.agent, now, contract.timeouts);
    if (pace === this.#askPace) return;
    const brisk = asksBriskly(this.#askPace, now, contract.timeouts);
    this.#askPace = pace;
    if (!brisk) this.#ctx.timers.setEarliest("decision-sync", now);
  }

  /**
   * A founder's first message of an epoch from someone else suspends its founding; later ones
   * name the agents whose nodes its asks go to first (each holds its epoch's decision).
   */
  #suspendFounding(m: WireMessage): void {
    const gate = this.#gate;
    this.#gate = heardEpoch(gate, m.agent, this.#ctx.now);
    if (gate.state !== "open") return;
    const about = { agent: m.agent, kind: m.kind, epoch: m.epoch };
    if (this.#storeLost)
      this.#ctx.out.log(
        "warn",
        "founding suspended for good: this node ran before (its key exists) but its store was found empty, so an epoch it hears is probably its own network's; start it with --bootstrap peers of that network",
        about,
      );
    else
      this.#ctx.out.log(
        "info",
        "founding suspended: another agent's message names an epoch; asking peers for its decision",
        about,
      );
    this.#ctx.timers.clear("found");
  }

  /** A bootstrap address's node answered: its own decision messages are taken by gossip. */
  onBootstrapPeer(peer: AgentId): void {
    this.#bootstrap.add(peer);
  }

  /**
   * A decision message heard by gossip while this node knows no epoch: not taken, since it would
   * be taken on trust and anyone's gossip may reach a node (a stranger's two throwaway keys made
   * up a decided old epoch, and the joiner then rejected the real next one as `not-member`). It
   * says that a network runs, so the node asks its peers for the current decision at once (§9.3).
   * The exception: one a bootstrap node sent itself, taken as its answer would be
   * (bootstrap-peers.ts). At a founding every joiner then holds epoch 0 as the founder's flooded
   * proposal reaches it: the last of 50 processes 0.6–1.4 s after all were up, against 3.3–4.6 s
   * when each asked 2 random peers and at first only the founder held it (docs/scaling.md §5).
   */
  unasked(m: WireMessage, from: AgentId | undefined): boolean {
    if (this.current || (m.kind !== "propose" && m.kind !== "accept" && m.kind !== "view")) return false;
    if (m.agent !== this.#ctx.me) this.noteNetwork(m);
    return !this.#bootstrap.sentItself(m, from);
  }

  /**
   * `peer` answered this node's request for the current decision with none: it holds no epoch. A
   * suspended founder counts these (founding-gate.ts); enough, from 2 or more peers, over a round
   * timeout, and it founds.
   */
  onNoDecision(peer: string): void {
    const gate = this.#gate;
    // A founder that lost its store never resumes: its own network may well run without it.
    if (this.current || gate.state !== "suspended" || this.#storeLost) return;
    this.#gate = answeredEmpty(gate, this.#ctx.now, this.#ctx.contract.timeouts.roundMs, peer);
    if (this.#gate.state !== "resumed") return;
    this.#ctx.out.log("warn", "founding resumed: peers' answers hold no decided epoch", {
      answers: this.#gate.empty,
      suspendedMs: this.#ctx.now - gate.since,
    });
    this.advance();
  }

  /**
   * Whether a message tells that its agent lives: a `join` or `alive` later (by `seq`) than any of
   * the agent's seen. Their slots are forgotten once a newer one arrives, so a replayed one is
   * accepted again (anyone can replay one), and must not then make its agent look alive: a crashed
   * member would never be found silent. Other messages are held by their slots for as long as
   * their epoch matters, so a replay of one is a duplicate.
   */
  isNews(m: WireMessage): boolean {
    if (m.kind === "join") return m.seq > (this.#joinSeqs.get(m.agent) ?? Number.NEGATIVE_INFINITY);
    if (m.kind === "alive") return m.seq > (this.#lastAlive.get(m.agent)?.seq ?? Number.NEGATIVE_INFINITY);
    return true;
  }

  onJoin(m: JoinMessage): void {
    const me = this.#ctx.me;
    this.#joinSeqs.set(m.agent, Math.max(m.seq, this.#joinSeqs.get(m.agent) ?? m.seq));
    if (m.agent === me) {
      this.#joinSeq = Math.max(this.#joinSeq, m.seq);
      return;
    }
    const prior = this.#joins.get(m.agent);
    if (
      (this.current?.memberSet.has(m.agent) && !this.#leaves.has(m.agent)) ||
      (prior && prior.message.seq >= m.seq)
    ) {
      // Kept for nothing: each such join (a member's, or one no newer than the agent's latest,
      // say under another epoch) would otherwise hold its slot for the life of the node.
      this.#ctx.slots.forget(m);
      return;
    }
    // Only an agent's latest announcement matters; forgetting older ones keeps memory bounded
    // however long (or however many keys) an outsider keeps announcing.
    if (prior) this.#ctx.slots.forget(prior.message);
    this.#joins.set(m.agent, { message: m, seenAt: this.#ctx.now });
    if (!prior) this.#ctx.out.log("info", "agent asks to join", { agent: m.agent });
    const live = joinerLiveMs(this.#ctx.contract.timeouts, this.#agentsKnown());
    this.#ctx.timers.setEarliest("joiner-expiry", this.#ctx.now + live);
    this.advance();
  }

  onLeave(m: LeaveMessage): void {
    const cur = this.current;
    if (!cur || m.epoch !== cur.number || !cur.memberSet.has(m.agent) || this.#leaves.has(m.agent)) return;
    this.#leaves.add(m.agent);
    this.#ctx.out.log("info", "member leaves", { agent: m.agent, epoch: m.epoch });
    this.advance();
  }

  onAlive(m: AliveMessage): void {
    // Only the latest heartbeat matters; forgetting the rest keeps memory flat while idle.
    const prior = this.#lastAlive.get(m.agent);
    if (prior && prior.seq >= m.seq) {
      this.#ctx.slots.forget(m);
      return;
    }
    if (prior) this.#ctx.slots.forget(prior);
    this.#lastAlive.set(m.agent, m);
  }

  onDecisionMessage(m: ProposeMessage | AcceptMessage | ViewMessage): void {
    const d = this.#decisionFor(m);
    if (d) feed(d, m, this.#ctx.now);
    else if (!this.current) {
      if (m.agent !== this.#ctx.me) this.noteNetwork(m);
      this.#pending.take(m, this.#ctx.now, (x) => this.#ctx.slots.forget(x));
    }
    this.advance();
  }

  // ---- events --------------------------------------------------------------------------------

  onTick(): void {
    const { timers, now, contract } = this.#ctx;
    const { roundMs } = contract.timeouts;
    if (timers.due("announce", now)) {
      if (this.#joining()) {
        this.#announce();
        timers.set("announce", now + this.#announceEvery);
        // Back off while waiting, as TCP retransmits SYNs: n joiners announcing every announceMs
        // to n nodes were most of a starting network's messages. A joiner stays live at every
        // proposer for at least two of its longest waits (joinerLiveMs).
        this.#announceEvery = Math.min(
          2 * this.#announceEvery,
          joinerAnnounceMs(contract.timeouts, this.#agentsKnown()),
        );
      } else timers.clear("announce");
    }
    if (timers.due("heartbeat", now)) {
      if (this.#wantsHeartbeat()) {
        // Any message this agent signs is heard as alive, so `alive` goes out only after a beat
        // with nothing else published, as Raft's leader heartbeats only when it has no entries.
        const every = heartbeatMs(contract.timeouts, this.current?.plan.members.length ?? 0);
        const spoke = this.#ctx.out.publishedAt;
        if (spoke <= now - every) {
          this.#heartbeat();
          timers.set("heartbeat", now + every);
        } else timers.set("heartbeat", spoke + every);
      } else timers.clear("heartbeat");
    }
    if (timers.due("decision-sync", now)) {
      if (!this.current) {
        const from = suspenders(this.#gate);
        this.#ctx.out.sync({ type: "decision", epoch: null, ...(from.length > 0 ? { from } : {}) });
        timers.set("decision-sync", now + this.#askPace.every);
        // Until some message says a network runs there may be no decision to give: fifty nodes
        // starting on two cores asked their one bootstrap peer every announceMs for minutes, and
        // those requests were most of its sync timeouts (docs/scaling.md §5). Back off as the
        // join announcements do, but for a round timeout after a message of an epoch: then it may
        // still never get an answer (a stranger's message, no peer, every ask lost).
        this.#askPace = afterAsk(
          this.#askPace,
          now,
          contract.timeouts,
          joinerAnnounceMs(contract.timeouts, this.#agentsKnown()),
        );
      } else timers.clear("decision-sync");
    }
    if (timers.due("membership-sync", now)) {
      const d = this.#decision;
      if (d && this.current && (d.active || this.#wantSince !== null)) {
        // Only what this node lacks of the highest view it knows of, as the round's and commits'
        // catch-ups ask; nothing lacking but no decision (accepts split between plans): the whole
        // epoch. A missing proposal's proposer alone surely holds it: its node is asked first.
        const view = d.highestView();
        const missing = d.proposal(view) ? null : d.proposer(view);
        const named = catchUpNames(d.lacking(view), missing, this.#decisionCatchUps++);
        this.#ctx.out.sync({
          type: "messages",
          epoch: d.epoch,
          kinds: ["propose", "accept", "view", "leave"],
          ...(named.length > 0 ? { from: named } : {}),
          ...(missing !== null && named.includes(missing) ? { lead: missing } : {}),
        });
        timers.set("membership-sync", now + roundMs / 2);
      } else timers.clear("membership-sync");
    }
    if (timers.due("round-stuck", now)) {
      timers.clear("round-stuck");
      // Stuck: either members went silent, or the rest moved to a later epoch while we were
      // away. Ask for that epoch's decision before deciding anyone is gone.
      if (this.current) this.wantDecision(this.current.number + 1);
    }
    if (timers.due("leave-timeout", now)) {
      timers.clear("leave-timeout");
      this.#leaveNow();
    }
    // After the timeout: a leaver going now has nothing left to re-send for (#leaveNow clears it).
    if (timers.due("leave-resend", now)) {
      timers.clear("leave-resend");
      const cur = this.current;
      if (this.#leaving && !this.#left && cur && this.isMember()) this.#announceLeave(cur);
    }
    if (timers.due("decision-poll", now)) {
      timers.clear("decision-poll");
      if (this.current) this.wantDecision(this.current.number + 1);
    }
    for (const name of [
      "found",
      "joiner-expiry",
      "snub-expiry",
      "silence",
      "batch",
      "view-timeout",
      "conviction",
    ] as const)
      if (timers.due(name, now)) timers.clear(name);
    this.advance();
  }

  /**
   * Who was last heard when, and who is snubbed until when, matter only for members, joiners and
   * the members just dropped: without this, every agent ever heard (any key, under an open
   * contract) would keep an entry for the life of the node.
   */
  #forgetStrangers(previous: EpochInfo | null): void {
    const now = this.#ctx.now;
    const voters = new Set(this.current?.plan.voters);
    const known = (id: AgentId) =>
      this.current?.memberSet.has(id) === true ||
      voters.has(id) ||
      this.#joins.has(id) ||
      previous?.memberSet.has(id) === true;
    for (const id of this.#seen.keys()) if (!known(id)) this.#seen.delete(id);
    for (const id of this.#joinSeqs.keys()) if (!known(id)) this.#joinSeqs.delete(id);
    for (const [id, until] of this.#snubbed) if (until <= now) this.#snubbed.delete(id);
  }

  /** After a restart's replay: act again. */
  resume(): void {
    const { timers, now } = this.#ctx;
    if (this.current) {
      this.wantDecision(this.current.number + 1);
      for (const id of this.current.plan.members) this.#seen.set(id, now);
    }
    if (this.#wantsHeartbeat()) timers.set("heartbeat", now);
    this.advance();
  }

  /** A graceful stop: tell the others, stay until those that go on hold the epoch without us (leave-stay.ts), then go. */
  leave(): void {
    const cur = this.current;
    const me = this.#ctx.me;
    this.#leaving = true;
    this.#ctx.timers.clear("announce");
    if (!cur || !me || !cur.memberSet.has(me)) {
      this.#leaveNow();
      return;
    }
    this.#announceLeave(cur);
    this.#ctx.timers.set("leave-timeout", this.#ctx.now + leaveWaitMs(this.#ctx.contract.timeouts));
    this.advance();
  }

  /**
   * `leave(epoch)` while this leaving node is a member of `epoch`: when it leaves, every
   * leaveResendMs while it stays (with a `seq`: gossip drops the same bytes again as a duplicate),
   * and anew in each later epoch that still names it, whose deciders may never have heard the
   * others (a lost leave, and the only voter kept the leaver in two more epochs: sim seed 653).
   */
  #announceLeave(epoch: EpochInfo): void {
    const { me, timers, now, contract, slots } = this.#ctx;
    const leave = (seq: number): Unsigned<LeaveMessage> => ({
      v: PROTOCOL_VERSION,
      kind: "leave",
      contract: this.#ctx.contractId,
      agent: me as AgentId,
      epoch: epoch.number,
      ...(seq > 0 ? { seq } : {}),
    });
    // A slot it already holds (a leave sent before a restart, replayed from its store) would only
    // hand back that copy and send nothing: a leaver restarted within its stay goes on from the
    // first seq it has not sent. With every seq of the epoch used, it sends no more `leave(e)`.
    let seq = this.#leaveSeq;
    while (seq <= MAX_LEAVE_SEQ && slots.get(slotOf(leave(seq) as LeaveMessage))) seq++;
    const sent = seq <= MAX_LEAVE_SEQ ? this.#ctx.out.publish<LeaveMessage>(leave(seq)) : null;
    if (sent || seq > 0) this.#leaves.add(me as AgentId);
    this.#leaveSeq = seq + 1;
    if (this.#leaveSeq <= MAX_LEAVE_SEQ) timers.set("leave-resend", now + leaveResendMs(contract.timeouts));
    else timers.clear("leave-resend");
  }

  /** Messages set aside by the last adoption, to go through validation again (see #adopt). */
  takeRequeued(): WireMessage[] {
    const out = this.#requeue;
    this.#requeue = [];
    return out;
  }

  /** Ask peers for the decision of `epoch` (a later epoch's messages are arriving), at most once per announceMs. */
  wantDecision(epoch: number): void {
    const { now, contract, timers } = this.#ctx;
    timers.setEarliest("catch-up", now + CATCH_UP_ROUNDS * contract.timeouts.roundMs);
    if (now - this.#lastDecisionSync < contract.timeouts.announceMs) return;
    this.#lastDecisionSync = now;
    this.#ctx.out.sync({ type: "decision", epoch });
  }

  /**
   * Catch-up by trust (§9.3): this node has wanted the decision after its epoch for
   * CATCH_UP_ROUNDS rounds and no peer could give it (the only nodes that held it may be gone),
   * while it holds a later epoch's complete decision. It adopts the newest such epoch as a node
   * that knows no epoch does, taking the proposal's deciders as given. Returns the messages of
   * the decision it adopted (the caller convicts on their plans' proofs), or none.
   */
  catchUp(held: readonly WireMessage[]): readonly WireMessage[] {
    const cur = this.current;
    if (!cur) return [];
    const later = held.filter(
      (m): m is ProposeMessage | AcceptMessage | ViewMessage =>
        (m.kind === "propose" || m.kind === "accept" || m.kind === "view") && m.epoch > cur.number + 1,
    );
    const decisions = new Map<number, EpochDecision>();
    for (const m of later)
      if (m.kind === "propose" && !decisions.has(m.epoch))
        decisions.set(m.epoch, new EpochDecision(m.epoch, m.plan.deciders, this.#ctx.me, this.#ctx.now));
    for (const m of later) {
      const d = decisions.get(m.epoch);
      if (d) feed(d, m, this.#ctx.now);
    }
    const best = newestDecided(decisions.values(), null);
    if (!best) return [];
    this.#ctx.out.log("warn", "caught up by trust: the decision after our epoch is nowhere to be had", {
      from: cur.number,
      to: best.epoch,
    });
    this.#adopt(best);
    this.advance();
    return best.evidence;
  }

  /** Re-evaluate everything: adopt a decided epoch, found the first, or drive the next decision. */
  advance(): void {
    if (this.#advancing) {
      this.#again = true;
      return;
    }
    this.#advancing = true;
    try {
      do {
        this.#again = false;
        if (this.#adoptDecided()) continue;
        if (!this.current) this.#found();
        else this.#drive();
      } while (this.#again);
    } finally {
      this.#advancing = false;
    }
  }

  // ---- internals -----------------------------------------------------------------------------

  /** The decision `m` belongs to once this node has an epoch (or founds epoch 0); before that, none. */
  #decisionFor(m: ProposeMessage | AcceptMessage | ViewMessage): EpochDecision | null {
    const cur = this.current;
    if (cur) return m.epoch === cur.number + 1 ? this.#decision : null;
    if (this.#decision && m.epoch === 0 && m.agent === this.#ctx.me) return this.#decision;
    return null;
  }

  #adoptDecided(): boolean {
    if (this.current) {
      const decided = this.#decision?.decided();
      if (!decided) return false;
      this.#adopt(decided);
      return true;
    }
    const best = newestDecided(this.#pending.decisions(), this.#decision?.decided() ?? null);
    if (!best) return false;
    this.#adopt(best);
    return true;
  }

  #adopt(d: Decided): void {
    const ctx = this.#ctx;
    const now = ctx.now;
    const previous = this.current;
    const plan = d.plan;
    const terms = plan.terms ?? ctx.contract;
    const info: EpochInfo = {
      number: d.epoch,
      plan,
      memberSet: new Set(plan.members),
      evidence: d.evidence,
      terms,
      termsId: plan.terms ? contractId(plan.terms) : ctx.contractId,
      startedAt: now,
    };
    this.#rebids.clear();
    this.#unlinked = null;
    this.#unlinkedPromise = null;
    this.#amendments.prune(info.termsId);
    this.previous = previous;
    this.current = info;
    this.#decision = new EpochDecision(d.epoch + 1, plan.voters, ctx.me, now);
    // Decisions seen before any epoch, for later epochs than this one, are judged again now that
    // this one gives their deciders: their messages go back through validation, none is lost.
    this.#requeue.push(...this.#pending.drainAfter(d.epoch));
    for (const id of plan.members) {
      const join = this.#joins.get(id);
      if (join) this.#ctx.slots.forget(join.message);
      this.#joins.delete(id);
      this.#seen.set(id, now);
    }
    this.#forgetStrangers(previous);
    if (previous) {
      const { roundMs } = ctx.contract.timeouts;
      for (const id of previous.plan.members)
        if (!info.memberSet.has(id) && !this.#leaves.has(id)) {
          const strikes = Math.min((this.#strikes.get(id) ?? 0) + 1, MAX_STRIKES);
          this.#strikes.set(id, strikes);
          const until = now + 2 ** strikes * roundMs;
          this.#snubbed.set(id, until);
          ctx.timers.setEarliest("snub-expiry", until);
        }
    }
    this.#leaves.clear();
    this.#wantSince = null;
    for (const name of [
      "batch",
      "view-timeout",
      "membership-sync",
      "found",
      "decision-sync",
      "silence",
      "catch-up",
    ] as const)
      ctx.timers.clear(name);
    ctx.slots.forgetBefore(d.epoch - 1);
    const member = this.isMember();
    ctx.out.log("info", "epoch started", {
      epoch: d.epoch,
      members: plan.members.length,
      member,
      view: d.view,
    });
    this.#hooks.epochStarted(info, previous);
    if (this.#leaving) {
      this.#leaveSeq = 0;
      ctx.timers.clear("leave-resend");
      if (member) this.#announceLeave(info);
      else if (this.#leftOutOf === null) {
        // Its own accept may be the one that made the majority, and may be lost on the way to the
        // others: it stays, serving sync, until a member shows it holds the epoch (heard), or
        // for one more wait at most.
        this.#leftOutOf = d.epoch;
        ctx.timers.set("leave-timeout", now + leaveWaitMs(ctx.contract.timeouts));
      }
    } else if (!member && ctx.bids.latest && ctx.me) {
      // A new epoch that left us out: say at once that we know it, and announce briskly again.
      this.#announceEvery = ctx.contract.timeouts.announceMs;
      ctx.timers.set("announce", now);
    }
  }

  #leaveNow(): void {
    if (this.#left) return;
    this.#left = true;
    this.#ctx.timers.clear("leave-timeout");
    this.#ctx.timers.clear("leave-resend");
    this.#ctx.out.emit({ type: "left", epoch: this.current?.number ?? null });
  }

  /** The founder decides the first epoch alone, once it has waited `announceMs` and knows `minMembers` agents. */
  #found(): void {
    const ctx = this.#ctx;
    const me = ctx.me;
    const d = this.#decision;
    if (!this.#founder || !me || !d || this.#gate.state === "suspended" || this.#leaving) return;
    // Every other node rejects a message whose signer is off the allowlist, this node's proposal
    // included: it would found a market of one whose certificates no one else could verify.
    const policy = ctx.contract.membership;
    if (policy.policy === "allowlist" && !policy.members.includes(me)) {
      if (!this.#offListLogged)
        ctx.out.log("warn", "not founding: this node's key is not on the contract's allowlist", {
          agent: me,
        });
      this.#offListLogged = true;
      return;
    }
    if (ctx.now < this.#startedAt + ctx.contract.timeouts.announceMs) {
      ctx.timers.set("found", this.#startedAt + ctx.contract.timeouts.announceMs);
      return;
    }
    if (d.proposal(0)) return;
    const founding = (joiners: readonly AgentId[]): EpochPlan =>
      foundingPlan(me, sortedUnique([...(ctx.bids.latest ? [me] : []), ...joiners]));
    const joiners = this.liveJoiners();
    const fit = fitJoiners(founding, joiners, ctx.contract.resources.length, ctx.maxMessageBytes);
    const minMembers = Math.max(1, ctx.contract.minMembers);
    if (fit && fit.plan.members.length >= minMembers) {
      this.#publishPropose(d, 0, fit.plan);
      // Decided by this proposal alone: adopt it now. It waited for the node's next event, which
      // came soon only while the joiners took the epoch from its gossip and sent their demands.
      this.#again = true;
      return;
    }
    // Enough agents, but the wire carries a first epoch of fewer: waiting for more cannot help,
    // and without this line the founder would wait in silence (the contract asks too much).
    const known = founding(joiners).members.length;
    if (known >= minMembers && !this.#unfoundableLogged) {
      ctx.out.log("warn", "not founding: minMembers agents are more than one message can carry", {
        minMembers,
        known,
        fit: fit?.plan.members.length ?? 0,
        maxMessageBytes: ctx.maxMessageBytes,
      });
      this.#unfoundableLogged = true;
    }
  }

  /** A decider's part in deciding the next epoch: accept, follow, propose, time out. */
  #drive(): void {
    const ctx = this.#ctx;
    const me = ctx.me;
    const d = this.#decision;
    const cur = this.current;
    if (!cur || !d || !me) return;
    const want = this.#wantedPlan();
    this.#armSilence();
    if (!d.isDecider(me)) {
      // A member that does not vote yet cannot propose the change it wants (a silent member, say):
      // the voters may have decided it already while this node was cut off, and no message of
      // theirs need reach it again (sim seed 7884). Ask for the next decision every round timeout.
      if (want !== null) ctx.timers.setEarliest("decision-poll", ctx.now + ctx.contract.timeouts.roundMs);
      else ctx.timers.clear("decision-poll");
      return;
    }
    if (want === null) this.#wantSince = null;
    else if (this.#wantSince === null) this.#wantSince = ctx.now;

    const acceptable = d.acceptable();
    const unlinked = this.#unlinked;
    this.#unlinked = null;
    const waited = this.#unlinkedPromise;
    this.#unlinkedPromise = null;
    if (acceptable && this.#clockAgrees(acceptable.plan) && this.#linkAgrees(cur, acceptable, unlinked))
      this.#publishAccept(d, acceptable);
    const high = d.highestView();
    if (high > d.view) this.#publishView(d, high);

    if (d.proposer(d.view) === me && !d.proposal(d.view)) {
      const offer = this.#offer(cur, want);
      if (d.view === 0) {
        if (offer && this.#batchReady(offer)) this.#publishPropose(d, 0, offer);
      } else if (d.promisesFor(d.view) >= d.quorum) {
        // A promise's plan whose link no honest acceptor takes cannot have been chosen: skipped,
        // or one faulty decider's promise would hold every later view to it.
        const chosen = d.constrainedPlan(d.view, (p) => this.#link(cur, p) !== "forged");
        if (chosen === null || this.#mayPropose(cur, chosen, waited))
          this.#publishPropose(d, d.view, chosen ?? offer ?? this.#samePlan(cur));
      }
    }
    if (d.decided()) {
      this.#again = true;
      return;
    }
    const engaged = d.active || want !== null;
    if (!engaged) {
      ctx.timers.clear("view-timeout");
      ctx.timers.clear("membership-sync");
      return;
    }
    const since = d.active ? d.viewSince : (this.#wantSince as number);
    const deadline = since + viewTimeout(ctx.contract.timeouts.roundMs, d.view);
    if (ctx.now >= deadline) {
      ctx.out.log("info", "no decision in time: next view", { epoch: d.epoch, view: d.view + 1 });
      this.#publishView(d, d.view + 1);
      ctx.timers.set("view-timeout", d.viewSince + viewTimeout(ctx.contract.timeouts.roundMs, d.view));
    } else ctx.timers.set("view-timeout", deadline);
    ctx.timers.setEarliest("membership-sync", ctx.now + ctx.contract.timeouts.roundMs / 2);
  }

  /**
   * The next epoch (market slot) this node would propose now, or null when it sees no reason for
   * one: members joining, leaving or silent, a member's new bid, the contract's period elapsed
   * since the last certified slot, or an amendment passed. Without `judgeSilence`, nobody counts
   * as silent.
   */
  #wantedPlan(judgeSilence = true): EpochPlan | null {
    const cur = this.current;
    const me = this.#ctx.me;
    // Members want changes; so does a voter that is not a member (a founding observer).
    if (!cur || !me || !(cur.memberSet.has(me) || cur.plan.voters.includes(me))) return null;
    const silent = new Set(judgeSilence ? this.#silent() : []);
    // Dropped for equivocation: the convicted members whose proofs the plan carries, so every node
    // that validates it convicts them too (plan-proofs.ts); any more leave in a later epoch.
    const proofs: EquivocationProof[] = [];
    for (const id of cur.plan.members) {
      const held = this.#convicted.proof(id);
      const proof = held ? asPlanProof(held) : null;
      if (proof && proofs.length < MAX_PLAN_PROOFS) proofs.push(proof);
    }
    const convicted = new Set(proofs.map(([first]) => first.agent));
    const keep = cur.plan.members.filter(
      (id) => !this.#leaves.has(id) && !silent.has(id) && !convicted.has(id),
    );
    const amendment = this.#passedAmendment(cur);
    const planFor = (members: readonly AgentId[], cause: EpochCause[]): EpochPlan => ({
      members,
      deciders: cur.plan.voters,
      voters: this.#votersFor(cur, members),
      base: convicted.size > 0 ? this.#startBase(cur) : this.#base(cur),
      terms: amendment?.terms ?? cur.plan.terms,
      ledger: this.tip(),
      cause,
      ...(proofs.length > 0 ? { proofs } : {}),
    });
    // As many joiners as the wire can carry (plan-fit.ts), first heard first; the rest wait for a
    // later epoch. Fitted with every cause named, so the plan with its real causes fits too.
    const fit = fitJoiners(
      (joiners) => planFor(sortedUnique([...keep, ...joiners]), [...EPOCH_CAUSES]),
      this.liveJoiners(),
      this.#ctx.contract.resources.length,
      this.#ctx.maxMessageBytes,
    );
    if (!fit) {
      // Only amended terms that outgrew the wire can do this (the members kept fit before):
      // every node would reject the plan, so none is proposed.
      if (!this.#overflowLogged)
        this.#ctx.out.log("warn", "no plan fits the wire's message cap: the next epoch cannot be proposed", {
          members: keep.length,
        });
      this.#overflowLogged = true;
      return null;
    }
    const members = fit.plan.members;
    if (members.length === 0) return null;
    const cause: EpochCause[] = [];
    if (fit.admitted > 0) cause.push("join");
    if (cur.plan.members.some((id) => this.#leaves.has(id))) cause.push("leave");
    if (silent.size > 0) cause.push("silence");
    if (convicted.size > 0) cause.push("equivocation");
    if ([...this.#rebids].some((id) => members.includes(id))) cause.push("rebid");
    if (this.#periodElapsed(cur)) cause.push("period");
    if (amendment) cause.push("amend");
    // Members that have bid but do not vote yet become voters, once the epoch is certified.
    const unpromoted = this.#votersFor(cur, members).some((id) => !cur.plan.voters.includes(id));
    if (unpromoted && this.#market.converged() && this.#hooks.certificate(cur.number)) cause.push("promote");
    if (cause.length === 0) return null;
    return planFor(members, cause);
  }

  /**
   * What this node proposes when it wants `want`. Hearing from fewer than a majority of the
   * deciders (itself counted), it is more likely cut off than they are dead, and if they are dead
   * no quorum can decide anyway. In a 50-node run a node whose only link was the bootstrap node
   * found 48 members silent, and the others accepted its plan as it came (deaf-member.test.ts).
   * So it proposes no one's removal for silence then, while its want still keeps it asking (§9.3).
   */
  #offer(cur: EpochInfo, want: EpochPlan | null): EpochPlan | null {
    return want?.cause.includes("silence") && !this.#hearsQuorum(cur) ? this.#wantedPlan(false) : want;
  }

  /** Whether this node heard, within silenceMs, from a majority of the next epoch's deciders. */
  #hearsQuorum(cur: EpochInfo): boolean {
    const { me, now, contract } = this.#ctx;
    const since = now - silenceMs(contract.timeouts, cur.plan.members.length);
    const deciders = cur.plan.voters;
    const heard = deciders.filter(
      (id) => id === me || (this.#seen.get(id) ?? Number.NEGATIVE_INFINITY) >= since,
    );
    return heard.length >= majority(deciders.length);
  }

  /** A view proposer that sees no change still proposes (liveness): the same members, from here. */
  #samePlan(cur: EpochInfo): EpochPlan {
    const kept = cur.plan.members.filter((id) => !this.#leaves.has(id));
    const members = kept.length > 0 ? kept : cur.plan.members;
    return {
      members,
      deciders: cur.plan.voters,
      voters: this.#votersFor(cur, members),
      base: this.#base(cur),
      terms: cur.plan.terms,
      ledger: this.tip(),
      cause: ["renew"],
    };
  }

  /**
   * Who decides the epoch after the next one: the current voters that stay, and the members that
   * bid in the current epoch (caught up and live, as Raft promotes a learner). Never empty: were
   * every voter gone, the members that stay vote.
   */
  #votersFor(cur: EpochInfo, members: readonly AgentId[]): AgentId[] {
    const bidders = this.#market.bidders();
    const current = new Set(cur.plan.voters);
    const voters = members.filter((id) => current.has(id) || bidders.has(id));
    return voters.length > 0 ? voters : [...members];
  }

  /**
   * The ledger's tip as this node sees it: the current epoch's certificate once assembled, else
   * what the current epoch's plan linked to. A plan names it, so every epoch's commit links to
   * the certificate before it: the ledger is a hash chain.
   */
  tip(): Digest | null {
    const cur = this.current;
    if (!cur) return null;
    const cert = this.#hooks.certificate(cur.number);
    return cert ? certificateDigest(cert) : cur.plan.ledger;
  }

  /** The contract's period has passed since this node began the current slot, which is certified. */
  #periodElapsed(cur: EpochInfo): boolean {
    const period = this.#ctx.contract.period;
    if (!period || !this.#hooks.certificate(cur.number)) return false;
    const due = cur.startedAt + period.ms;
    if (this.#ctx.now >= due) return true;
    this.#ctx.timers.setEarliest("slot", due);
    return false;
  }

  /**
   * A slot boundary is agreed like everything else: an acceptor takes a plan opened only by the
   * period when its own clock agrees (less an announce period of slack for skew), so no one
   * node's clock decides a boundary alone. Any other cause is accepted as it comes.
   */
  #clockAgrees(plan: EpochPlan): boolean {
    const period = this.#ctx.contract.period;
    const cur = this.current;
    if (!period || !cur || plan.cause.some((c) => c !== "period")) return true;
    const due = cur.startedAt + period.ms - this.#ctx.contract.timeouts.announceMs;
    if (this.#ctx.now >= due) return true;
    this.#ctx.timers.setEarliest("slot", due);
    return false;
  }

  /** How `plan`'s ledger link stands against this node's chain at `cur` (ledger-link.ts). */
  #link(cur: EpochInfo, plan: EpochPlan): LinkVerdict {
    return judgeLink(plan.ledger, plan.cause, {
      planLedger: cur.plan.ledger,
      certified: this.#hooks.certificate(cur.number) !== null,
      certifies: (digest) => this.#hooks.certifies(cur.number, digest),
    });
  }

  /**
   * An acceptor takes a plan only with a link its own chain shows (§12): a forged one never, and
   * one it cannot judge yet (the proposer holds the current epoch's certificate, this node not
   * yet) once it holds that certificate: it asks for the epoch's commits, again for each new
   * proposal, and judges again as they come (`awaitsLink`).
   */
  #linkAgrees(cur: EpochInfo, p: ProposeMessage, heldBefore: ProposeMessage | null): boolean {
    const verdict = this.#link(cur, p.plan);
    if (verdict !== "unknown") return verdict === "linked";
    if (heldBefore !== p) this.#hooks.seekCertificate(cur.number);
    this.#unlinked = p;
    return false;
  }

  /**
   * A view's proposer bound to re-propose a promise's plan takes it as an acceptor would (§12):
   * one whose link it cannot judge yet may still have been chosen, so it is neither dropped nor
   * proposed (its proposal counts as its own accept) until the current epoch's commits show it;
   * the proposer asks for them and judges again as they come, and the view's timeout passes the
   * decision on meanwhile.
   */
  #mayPropose(cur: EpochInfo, plan: EpochPlan, waitedBefore: EpochPlan | null): boolean {
    if (this.#link(cur, plan) === "linked") return true;
    if (waitedBefore !== plan) this.#hooks.seekCertificate(cur.number);
    this.#unlinkedPromise = plan;
    return false;
  }

  /** A proposal, or a promise's plan to re-propose, waits on the current epoch's certificate. */
  awaitsLink(): boolean {
    return this.#unlinked !== null || this.#unlinkedPromise !== null;
  }

  #passedAmendment(cur: EpochInfo): { terms: Contract } | null {
    const tip = this.tip();
    const certificate = tip ? this.#hooks.certificateByDigest(tip) : null;
    return this.#amendments.passed(cur.termsId, certificate, (n) =>
      Math.max(1, Math.ceil(cur.terms.quorum * n - 1e-9)),
    );
  }

  /** A current member's bid changed: it wants a new slot. */
  onRebid(m: RebidMessage): void {
    const cur = this.current;
    if (m.agent === this.#ctx.me) this.#rebidSeq = Math.max(this.#rebidSeq, m.seq);
    if (!cur || m.epoch !== cur.number || !cur.memberSet.has(m.agent)) return;
    this.#rebids.add(m.agent);
    this.advance();
  }

  /**
   * This agent's bid changed. It takes effect at the next slot: with a period, the next period's;
   * without one, the member asks for a slot now (`rebid`).
   */
  profileChanged(): void {
    const cur = this.current;
    const me = this.#ctx.me;
    if (!cur || !me || !this.isMember() || this.#ctx.contract.period) return;
    this.#rebidSeq += 1;
    const m = this.#ctx.out.publish<RebidMessage>({
      v: PROTOCOL_VERSION,
      kind: "rebid",
      contract: this.#ctx.contractId,
      agent: me,
      epoch: cur.number,
      seq: this.#rebidSeq,
    });
    if (m) this.onRebid(m);
  }

  #base(cur: EpochInfo): EpochBase {
    return (
      this.#market.base() ?? {
        epoch: cur.number,
        round: 0,
        prices: cur.plan.base?.prices ?? new Array(this.#ctx.contract.resources.length).fill(0),
      }
    );
  }

  /**
   * Where an epoch that drops a convicted equivocator starts: the current epoch's own start prices.
   * Its open round's prices were computed from demand sets the equivocator chose, and differ from
   * node to node once it split them; the start prices are the ones every member agreed on.
   */
  #startBase(cur: EpochInfo): EpochBase {
    return {
      epoch: cur.number,
      round: 0,
      prices: [...(cur.plan.base?.prices ?? this.#ctx.contract.initialPrices)],
    };
  }

  /**
   * Members this node considers gone. Once converged: unheard (any message; members send `alive`)
   * for `silenceMs` (a round timeout, longer in large epochs). In a running round: its demand still
   * missing after `roundMs` and unheard for `silenceMs` — or missing for `stuckHeardMs` even though heard (alive but not bidding).
   * A demand lost on the way is fetched by sync meanwhile, so loss alone does not drop anyone.
   */
  #silent(): AgentId[] {
    const cur = this.current;
    const { me, now, contract } = this.#ctx;
    if (!cur) return [];
    const quiet = silenceMs(contract.timeouts, cur.plan.members.length);
    const unheard = (id: AgentId) => (this.#seen.get(id) ?? Number.NEGATIVE_INFINITY) < now - quiet;
    if (!this.#market.converged()) {
      const stuck = this.#market.stuck() ?? [];
      const open = this.#market.openSince() ?? now;
      const long = now - open >= stuckHeardMs(contract.timeouts, this.#market.syncWaitMs());
      return stuck.filter((id) => id !== me && (long || unheard(id)));
    }
    return cur.plan.members.filter((id) => id !== me && !this.#leaves.has(id) && unheard(id));
  }

  /** Members heartbeat while converged, and while a round waits long (so loss is not taken for silence). */
  #wantsHeartbeat(): boolean {
    if (!this.isMember()) return false;
    if (this.#market.converged()) return true;
    const open = this.#market.openSince();
    return open !== null && this.#ctx.now - open >= this.#ctx.contract.timeouts.roundMs / 2;
  }

  #armSilence(): void {
    const cur = this.current;
    const { me, timers, contract } = this.#ctx;
    const { roundMs } = contract.timeouts;
    if (!cur) return;
    const open = this.#market.openSince();
    if (timers.at("heartbeat") === undefined) {
      if (this.#wantsHeartbeat()) timers.set("heartbeat", this.#ctx.now);
      // A round that has not waited long yet: heartbeat once it has. Without this a member held
      // up by someone else's lost demand stayed quiet, and was taken for silent (sim seed 58).
      else if (open !== null && this.isMember()) timers.set("heartbeat", open + roundMs / 2);
    }
    if (open !== null) {
      // A running round: look again when a missing member could count as silent.
      timers.setEarliest(
        "silence",
        open +
          (this.#market.stuck() ? stuckHeardMs(contract.timeouts, this.#market.syncWaitMs()) : roundMs / 2),
      );
      return;
    }
    if (!this.#market.converged()) {
      timers.clear("silence");
      return;
    }
    let earliest = Number.POSITIVE_INFINITY;
    for (const id of cur.plan.members)
      if (id !== me) earliest = Math.min(earliest, this.#seen.get(id) ?? Number.NEGATIVE_INFINITY);
    if (Number.isFinite(earliest))
      timers.setEarliest("silence", earliest + silenceMs(contract.timeouts, cur.plan.members.length));
  }

  /**
   * Joins alone wait half an announce period, so joiners arriving together share one epoch. A
   * change that drops no one also waits (up to a round timeout) for the current epoch's
   * certificate once it has settled, so the next epoch's plan links to it and no certified slot
   * is left out of the ledger.
   */
  #batchReady(want: EpochPlan): boolean {
    const cur = this.current as EpochInfo;
    const { timers, now, contract } = this.#ctx;
    if (want.cause.some((c) => c === "leave" || c === "silence" || c === "equivocation")) return true;
    const settled = this.#market.settledAt();
    if (settled !== null && !this.#hooks.certificate(cur.number)) {
      const late = settled + contract.timeouts.roundMs;
      if (now < late) {
        timers.setEarliest("batch", late);
        return false;
      }
    }
    if (!want.cause.includes("join")) return true;
    const ready = (this.#wantSince as number) + contract.timeouts.announceMs / 2;
    if (now >= ready) return true;
    timers.setEarliest("batch", ready);
    return false;
  }

  #publishPropose(d: EpochDecision, view: number, plan: EpochPlan): void {
    const me = this.#ctx.me as AgentId;
    const m = this.#ctx.out.publish<ProposeMessage>({
      v: PROTOCOL_VERSION,
      kind: "propose",
      contract: this.#ctx.contractId,
      agent: me,
      epoch: d.epoch,
      view,
      plan,
    });
    if (!m) return;
    this.#ctx.out.log("info", "proposing epoch", { epoch: d.epoch, view, members: m.plan.members.length });
    d.onPropose(m, this.#ctx.now);
  }

  #publishAccept(d: EpochDecision, p: ProposeMessage): void {
    const m = this.#ctx.out.publish<AcceptMessage>({
      v: PROTOCOL_VERSION,
      kind: "accept",
      contract: this.#ctx.contractId,
      agent: this.#ctx.me as AgentId,
      epoch: d.epoch,
      view: p.view,
      plan: planDigest(d.epoch, p.plan),
    });
    if (m) d.onAccept(m, this.#ctx.now);
  }

  #publishView(d: EpochDecision, view: number): void {
    const m = this.#ctx.out.publish<ViewMessage>({
      v: PROTOCOL_VERSION,
      kind: "view",
      contract: this.#ctx.contractId,
      agent: this.#ctx.me as AgentId,
      epoch: d.epoch,
      view,
      accepted: d.accepted ? { view: d.accepted.view, plan: d.accepted.plan } : null,
    });
    if (m) d.onView(m, this.#ctx.now);
  }

  /** An agent with a bid that is not a member and not going: it announces itself until admitted. */
  #joining(): boolean {
    return this.#ctx.bids.latest !== null && !this.isMember() && !this.#leaving;
  }

  #announce(): void {
    const me = this.#ctx.me;
    if (!me) return;
    this.#joinSeq += 1;
    this.#ctx.out.publish<JoinMessage>({
      v: PROTOCOL_VERSION,
      kind: "join",
      contract: this.#ctx.contractId,
      agent: me,
      epoch: this.current?.number ?? 0,
      seq: this.#joinSeq,
    });
    // Proposers admit only a joiner whose join names their epoch (liveJoiners), and the epochs it
    // missed may have been decided by agents it has never heard of, whose messages it ignores as
    // from nobody in view: asking is its only news of them (sim seed 15865).
    if (this.current) this.wantDecision(this.current.number + 1);
  }

  #heartbeat(): void {
    const me = this.#ctx.me;
    const cur = this.current;
    if (!me || !cur) return;
    this.#ctx.out.publish<AliveMessage>({
      v: PROTOCOL_VERSION,
      kind: "alive",
      contract: this.#ctx.contractId,
      agent: me,
      epoch: cur.number,
      seq: Math.max(0, Math.floor(this.#ctx.now)),
    });
  }
}

/** The highest-numbered decided epoch among these decisions, or `fallback`. */
function newestDecided(decisions: Iterable<EpochDecision | null>, fallback: Decided | null): Decided | null {
  let best = fallback;
  for (const decision of decisions) {
    const d = decision?.decided();
    if (d && (best === null || d.epoch > best.epoch)) best = d;
  }
  return best;
}

/** Rounds a node waits for the decision after its epoch before it trusts a later one it holds (§9.3). */
const CATCH_UP_ROUNDS = 2;

/** A decider waits this long in a view before moving on; doubles per view, capped. */
export function viewTimeout(roundMs: number, view: number): number {
  return roundMs * 2 ** Math.min(view, MAX_BACKOFF);
}
