import type { AgentProfile } from "../economics/agent.ts";
import { bestResponse } from "../economics/best-response.ts";
import type { Demand } from "../economics/demand.ts";
import { initialPriceRuleState, type PriceRuleState, stepPrices } from "../economics/price-rule.ts";
import { aggregateSupply } from "../economics/residual.ts";
import { settledAllocations } from "../economics/settlement.ts";
import type { StallReason } from "../economics/stall-rule.ts";
import { type Signer, verifyAgentSignature } from "../wire/agent-key.ts";
import { canonicalBytes } from "../wire/canonical-json.ts";
import {
  buildCertificate,
  type Certificate,
  type CommitBody,
  commitBody,
  commitBodyDigest,
  quorumSize,
} from "../wire/certificate.ts";
import { type Contract, contractId } from "../wire/contract.ts";
import { sha256Hex } from "../wire/hash.ts";
import { type AgentId, asDigest, type ContractId, type Digest } from "../wire/ids.ts";
import { messageDigest } from "../wire/message-codec.ts";
import type {
  AliveMessage,
  CommitMessage,
  DemandMessage,
  EpochBase,
  EpochMessage,
  JoinMessage,
  PriceMessage,
  Unsigned,
  WireMessage,
} from "../wire/messages.ts";
import { slotOf } from "../wire/messages.ts";
import { base64ToBytes, signingBytes, signMessage } from "../wire/signing.ts";
import {
  type EpochPlan,
  keepsMajority,
  type ProposalBook,
  planKey,
  preferPlan,
  recordProposal,
  settledPlans,
  sortedUnique,
} from "./epoch-rules.ts";
import type { Equivocation, MachineAction, MachineEvent, SyncWant, Verdict } from "./machine-io.ts";

/**
 * One node's view of the market as a pure state machine (sans-IO): `check` judges an incoming
 * message, `handle` applies an event and returns the actions to carry out. The same machine runs
 * in unit tests, in the libp2p node, and in the simulated network. docs/protocol.md is its spec.
 */
export interface AgentMachineConfig {
  readonly contract: Contract;
  /** The agent this node runs; absent for an observer (follows and verifies, never signs). */
  readonly agent?: {
    readonly signer: Signer;
    readonly profile: AgentProfile;
    /**
     * FAULT INJECTION, for tests only: rewrites the agent's demand for round `round` just before it
     * is signed, to make this node a lying member (docs/security.md §2).
     */
    readonly misreport?: (demand: Demand, round: number) => Demand;
  };
  /** When the node started: the first epoch waits `timeouts.announceMs` from here to gather joins. */
  readonly now: number;
}

export type MarketStatus = "joining" | "running" | "converged" | "stalled";

export interface MachineStatus {
  readonly contractId: ContractId;
  readonly agent: AgentId | null;
  readonly status: MarketStatus;
  readonly epoch: number | null;
  readonly members: readonly AgentId[];
  readonly member: boolean;
  readonly round: number | null;
  readonly prices: readonly number[];
  readonly residual: number | null;
  /** Price votes for the current round that match this node's own computation, of those received. */
  readonly agreement: { readonly matching: number; readonly received: number } | null;
  readonly allocation: number | null;
  readonly certificate: Certificate | null;
  readonly pendingJoins: readonly AgentId[];
  readonly equivocations: readonly Equivocation[];
}

interface EpochState {
  readonly number: number;
  readonly members: readonly AgentId[];
  readonly memberSet: ReadonlySet<AgentId>;
  readonly base: EpochBase | null;
  round: number;
  prices: number[];
  ruleState: PriceRuleState;
  openedAt: number;
  syncedAt: number;
  status: "running" | "converged";
  lastResidual: number | null;
  /** p^{k} this node computed, by round, to check demands and votes against. */
  readonly pricesByRound: Map<number, number[]>;
  readonly demands: Map<number, Map<AgentId, DemandMessage>>;
  readonly votes: Map<number, Map<AgentId, PriceMessage>>;
  readonly commits: Map<AgentId, CommitMessage>;
  commit: CommitBody | null;
  commitDigest: Digest | null;
  /** When commits were last asked for (or the epoch settled): paces catch-up of missing ones. */
  commitsSyncedAt: number;
  certificate: Certificate | null;
  lastX: number | undefined;
  /** The best round so far: what an epoch settles for when no price clears exactly. */
  best: RoundOutcome | null;
}

interface RoundOutcome {
  readonly round: number;
  readonly prices: number[];
  readonly demands: readonly DemandMessage[];
  readonly residual: number;
  readonly feasible: boolean;
}

/** Feasible rounds first (no resource over capacity), then the smaller residual. */
function betterOutcome(a: RoundOutcome, b: RoundOutcome): boolean {
  if (a.feasible !== b.feasible) return a.feasible;
  return a.residual < b.residual;
}

function isFeasible(contract: Contract, demands: readonly DemandMessage[]): boolean {
  const supply = aggregateSupply(contract.resources.length, demands);
  return contract.resources.every(
    (r, i) => (supply[i] as number) <= r.capacity * (1 + contract.tolerance.residual),
  );
}

/** How many rounds ahead of ours a message may be and still be held for later. */
const ROUND_WINDOW = 8;
/** Messages held for epochs not yet started, at most. */
const MAX_HELD = 4096;

export interface AgentMachine {
  /** Judge a decoded, schema-valid message: contract, signature, membership, window, duplicates. */
  check(message: WireMessage): Verdict;
  handle(event: MachineEvent): MachineAction[];
  status(): MachineStatus;
  /**
   * When the machine next needs a `tick` (absolute ms, the clock of the events). The node sets one
   * timer for it instead of polling; any event may move it, so read it again after each one.
   */
  nextDeadline(): number;
  /** Every certificate this node assembled, oldest first. */
  certificates(): readonly Certificate[];
}

export function createAgentMachine(config: AgentMachineConfig): AgentMachine {
  return new Machine(config);
}

class Machine implements AgentMachine {
  readonly #contract: Contract;
  readonly #id: ContractId;
  readonly #signer: Signer | null;
  readonly #profile: AgentProfile | null;
  readonly #misreport: ((demand: Demand, round: number) => Demand) | null;
  readonly #startedAt: number;
  #epoch: EpochState | null = null;
  /** slot -> digest of the first message seen for it (duplicates and equivocation). */
  readonly #slots = new Map<string, { digest: Digest; message: WireMessage }>();
  /** Agents asking to join, with when we last heard them: a joiner that goes quiet expires. */
  readonly #joins = new Map<AgentId, { message: JoinMessage; seenAt: number }>();
  readonly #leaves = new Set<AgentId>();
  readonly #proposals = new Map<number, ProposalBook>();
  #myProposal: EpochMessage | null = null;
  /**
   * The highest seq this agent signed a proposal with, per epoch. It outlives a withdrawn
   * proposal: re-proposing from seq 0 would sign a second message for a slot already used.
   */
  readonly #proposalSeqs = new Map<number, number>();
  #joinSeq = 0;
  #lastAnnounce = Number.NEGATIVE_INFINITY;
  #lastHeartbeat = Number.NEGATIVE_INFINITY;
  /** When each agent was last heard from, by any message: the liveness of converged members. */
  readonly #seen = new Map<AgentId, number>();
  readonly #lastAlive = new Map<AgentId, AliveMessage>();
  /** When our proposals first named each outsider, and those who then failed to echo. */
  readonly #invitedAt = new Map<AgentId, number>();
  readonly #snubbed = new Map<AgentId, number>();
  #lastMembershipSync = Number.NEGATIVE_INFINITY;
  #replaying = false;
  #held: WireMessage[] = [];
  readonly #equivocations: Equivocation[] = [];
  readonly #certificates: Certificate[] = [];
  #out: MachineAction[] = [];
  #closing = false;
  #closePending = false;
  #now = 0;

  constructor(config: AgentMachineConfig) {
    this.#contract = config.contract;
    this.#id = contractId(config.contract);
    this.#signer = config.agent?.signer ?? null;
    this.#profile = config.agent?.profile ?? null;
    this.#misreport = config.agent?.misreport ?? null;
    this.#startedAt = config.now;
    this.#now = config.now;
  }

  // ---- validation -------------------------------------------------------------------------

  check(m: WireMessage): Verdict {
    if (m.contract !== this.#id)
      return reject(
        "wrong-contract",
        `contract ${m.contract.slice(0, 12)}… is not ${this.#id.slice(0, 12)}…`,
      );
    const R = this.#contract.resources.length;
    if ("prices" in m && m.prices.length !== R)
      return reject("resource-count", `${m.prices.length} prices for ${R} resources`);
    if (m.kind === "demand" && m.footprint.length !== R)
      return reject("resource-count", `footprint has ${m.footprint.length} entries for ${R} resources`);
    if (m.kind === "epoch" && m.base && m.base.prices.length !== R)
      return reject("resource-count", `base has ${m.base.prices.length} prices for ${R} resources`);
    if (m.kind === "commit" && m.allocations.some((a) => a.footprint.length !== R))
      return reject("resource-count", `commit footprint length is not ${R}`);

    const slot = slotOf(m);
    const digest = messageDigest(m);
    const prior = this.#slots.get(slot);
    if (prior && prior.digest === digest) return ignore("duplicate", slot);

    const allowed = this.#allowed(m.agent);
    if (!allowed) return reject("not-allowed", `${m.agent} is not on the contract's allowlist`);

    // Cheap window checks before the signature, which costs the most.
    const window = this.#windowVerdict(m);
    if (window) return window;

    if (!verifyAgentSignature(m.agent, signingBytes(m), base64ToBytes(m.sig)))
      return reject("bad-signature", `signature does not verify under ${m.agent}`);

    if (prior) {
      const evidence: Equivocation = { agent: m.agent, slot, first: prior.message, second: m };
      if (!this.#equivocations.some((e) => e.slot === slot)) this.#equivocations.push(evidence);
      this.#out.push({ type: "equivocation", evidence });
      return reject("equivocation", `${m.agent} signed two different messages for ${slot}`);
    }
    return { verdict: "accept" };
  }

  #allowed(agent: AgentId): boolean {
    const policy = this.#contract.membership;
    return policy.policy === "open" || policy.members.includes(agent);
  }

  #windowVerdict(m: WireMessage): Verdict | null {
    const e = this.#epoch;
    if (m.kind === "join") return null;
    if (m.kind === "epoch") {
      if (e && m.epoch <= e.number && !(m.epoch === e.number && this.#isCompetingPlan(m)))
        return ignore("stale", `proposal for epoch ${m.epoch}, current is ${e.number}`);
      return null;
    }
    if (!e) return null; // held until the first epoch starts
    if (m.epoch > e.number) {
      // Held until that epoch starts, but only from agents who could be in it: otherwise any key
      // could make every node accept, store and forward messages for epochs that never come.
      if (this.#couldJoinEpoch(e, m.epoch, m.agent)) return null;
      return ignore("future", `${m.agent} is not in view for epoch ${m.epoch} (current ${e.number})`);
    }
    if (m.epoch < e.number) return ignore("stale", `epoch ${m.epoch} < ${e.number}`);
    if (!e.memberSet.has(m.agent))
      return reject("not-member", `${m.agent} is not a member of epoch ${e.number}`);
    if (m.kind === "commit") {
      // A commit's round is the round the epoch settled on, which may lie well behind.
      return sameIds(m.members, e.members)
        ? null
        : reject("not-member", `commit names members other than epoch ${e.number}'s`);
    }
    if (m.kind === "leave" || m.kind === "alive") return null;
    if (m.round < e.round - 1) return ignore("stale", `round ${m.round} < ${e.round - 1}`);
    if (m.round > e.round + ROUND_WINDOW)
      return ignore("future", `round ${m.round} > ${e.round + ROUND_WINDOW}`);
    if (m.kind === "demand") {
      const expected = e.pricesByRound.get(m.round);
      if (expected && !samePrices(expected, m.prices))
        return reject("price-mismatch", `demand answers prices other than p^${m.round}`);
    }
    return null;
  }

  /** A member now, an agent asking to join, or one a member's proposal for `epoch` names. */
  #couldJoinEpoch(e: EpochState, epoch: number, agent: AgentId): boolean {
    if (e.memberSet.has(agent) || this.#joins.has(agent)) return true;
    const book = this.#proposals.get(epoch);
    return (
      book !== undefined &&
      [...book.values()].some((p) => e.memberSet.has(p.agent) && p.members.includes(agent))
    );
  }

  /** A settled plan for the current epoch number that beats ours may still replace it. */
  #isCompetingPlan(m: EpochMessage): boolean {
    const e = this.#epoch;
    return e !== null && planKey(m) !== planKey({ members: e.members, base: e.base });
  }

  // ---- events -----------------------------------------------------------------------------

  handle(event: MachineEvent): MachineAction[] {
    this.#now = event.now;
    switch (event.type) {
      case "message":
        this.#replaying = event.replay === true;
        this.#onMessage(event.message);
        this.#replaying = false;
        break;
      case "tick":
        this.#onTick();
        break;
      case "resume":
        this.#onResume();
        break;
      case "leave":
        this.#onLeave();
        break;
    }
    const out = this.#out;
    this.#out = [];
    return out;
  }

  #onMessage(m: WireMessage): void {
    const slot = slotOf(m);
    if (this.#slots.has(slot)) return;
    this.#slots.set(slot, { digest: messageDigest(m), message: m });
    this.#seen.set(m.agent, this.#now);
    const e = this.#epoch;
    switch (m.kind) {
      case "join":
        this.#onJoin(m);
        return;
      case "epoch":
        this.#onProposal(m);
        return;
      case "alive": {
        // Only the latest heartbeat matters; forgetting the rest keeps memory flat while idle.
        const prior = this.#lastAlive.get(m.agent);
        if (prior) this.#slots.delete(slotOf(prior));
        this.#lastAlive.set(m.agent, m);
        if (!e || m.epoch > e.number) {
          this.#hold(m);
          this.#wantMembership(m.epoch);
        }
        return;
      }
      case "leave":
        if (e && m.epoch === e.number && e.memberSet.has(m.agent)) {
          this.#leaves.add(m.agent);
          this.#log("info", "member leaves", { agent: m.agent, epoch: m.epoch });
          this.#considerNextEpoch();
        } else if (e === null || m.epoch > e.number) this.#hold(m);
        return;
      default:
        if (!e || m.epoch > e.number) {
          this.#hold(m);
          this.#wantMembership(m.epoch);
          return;
        }
        if (m.epoch < e.number) return;
        if (m.kind === "demand") this.#onDemand(e, m);
        else if (m.kind === "price") this.#onVote(e, m);
        else this.#onCommit(e, m);
    }
  }

  #onJoin(m: JoinMessage): void {
    const e = this.#epoch;
    if (m.agent === this.#signer?.id) {
      this.#joinSeq = Math.max(this.#joinSeq, m.seq);
      return;
    }
    if (e?.memberSet.has(m.agent) && !this.#leaves.has(m.agent)) return;
    this.#leaves.delete(m.agent);
    const prior = this.#joins.get(m.agent);
    if (prior && prior.message.seq >= m.seq) return;
    // Only an agent's latest announcement matters; forgetting older ones keeps memory bounded
    // however long (or however many Sybil keys) an outsider keeps announcing.
    if (prior) this.#slots.delete(slotOf(prior.message));
    const fresh = prior === undefined;
    this.#joins.set(m.agent, { message: m, seenAt: this.#now });
    if (fresh) this.#log("info", "agent asks to join", { agent: m.agent });
    this.#considerNextEpoch();
  }

  #onProposal(m: EpochMessage): void {
    if (!recordProposal(bucket(this.#proposals, m.epoch), m)) return;
    const me = this.#signer?.id;
    if (m.agent === me)
      this.#proposalSeqs.set(m.epoch, Math.max(m.seq, this.#proposalSeqs.get(m.epoch) ?? 0));
    if (
      m.agent === me &&
      (!this.#myProposal || this.#myProposal.epoch < m.epoch || this.#myProposal.seq < m.seq)
    )
      this.#myProposal = m;
    // An outsider named in a plan echoes the best such plan: it cannot judge the base epoch it
    // was not part of, and its echo is what lets the plan settle.
    if (me && m.members.includes(me) && !this.#isMember()) {
      const best = this.#bestPlanIncludingMe(m.epoch);
      if (best) this.#propose(best);
    }
    this.#considerNextEpoch();
    this.#tryAdopt(m.epoch);
  }

  #onDemand(e: EpochState, m: DemandMessage): void {
    bucket(e.demands, m.round).set(m.agent, m);
    if (m.agent === this.#signer?.id && m.round === e.round) e.lastX = m.x;
    this.#closeRounds(e);
  }

  #onVote(e: EpochState, m: PriceMessage): void {
    bucket(e.votes, m.round).set(m.agent, m);
    const ours = e.pricesByRound.get(m.round);
    if (ours && !samePrices(ours, m.prices))
      this.#log("warn", "price vote disagrees", { agent: m.agent, epoch: e.number, round: m.round });
  }

  #onCommit(e: EpochState, m: CommitMessage): void {
    e.commits.set(m.agent, m);
    this.#tryCertify(e);
  }

  #onTick(): void {
    const e = this.#epoch;
    const { roundMs, announceMs } = this.#contract.timeouts;
    if (this.#signer && !this.#isMember() && this.#now - this.#lastAnnounce >= announceMs) this.#announce();
    if (!e) {
      this.#considerNextEpoch();
    } else if (e.status === "running") {
      const open = this.#now - e.openedAt;
      // Ask again every half timeout while anything is missing: a peer that had it may not
      // have been the one asked, and differing views of who is alive would block the next epoch.
      if (open >= roundMs / 2 && this.#now - e.syncedAt >= roundMs / 2 && this.#missing(e).length > 0) {
        e.syncedAt = this.#now;
        this.#sync({ epoch: e.number, round: e.round, kinds: ["demand"] });
        if (e.round > 0) this.#sync({ epoch: e.number, round: e.round - 1, kinds: ["demand"] });
      }
      if (open >= roundMs) {
        // Stuck: either members went silent, or the rest moved to a later epoch while we were
        // away (a restart). Ask for that epoch's proposals before deciding anyone is gone.
        this.#wantMembership(e.number + 1);
        this.#considerNextEpoch();
      }
    } else if (e.status === "converged") {
      if (!this.#certificateComplete(e) && this.#now - e.commitsSyncedAt >= roundMs / 2) {
        e.commitsSyncedAt = this.#now;
        this.#sync({ epoch: e.number, kinds: ["commit"] });
      }
      if (this.#isMember() && this.#now - this.#lastHeartbeat >= announceMs) this.#heartbeat(e);
      // A member that crashes after convergence sends nothing more: notice it, as in a round.
      this.#considerNextEpoch();
    }
    if (this.#myProposal && this.#now - this.#lastMembershipSync >= roundMs / 2) {
      this.#lastMembershipSync = this.#now;
      this.#sync({ epoch: this.#myProposal.epoch, kinds: ["epoch"] });
      if (this.#epoch) this.#sync({ epoch: this.#epoch.number, kinds: ["leave"] });
    }
  }

  #onResume(): void {
    const e = this.#epoch;
    if (e) {
      e.openedAt = this.#now;
      this.#wantMembership(e.number + 1);
    }
    if (e && this.#isMember()) {
      if (e.status === "running") this.#publishDemand(e);
      if (e.status === "converged") this.#publishCommit(e);
    }
    this.#considerNextEpoch();
  }

  #onLeave(): void {
    const e = this.#epoch;
    if (!this.#signer || !e || !this.#isMember()) return;
    this.#publish<WireMessage>({
      v: 1,
      kind: "leave",
      contract: this.#id,
      agent: this.#signer.id,
      epoch: e.number,
    });
  }

  // ---- rounds -----------------------------------------------------------------------------

  #missing(e: EpochState): AgentId[] {
    const have = e.demands.get(e.round);
    return e.members.filter((id) => !have?.has(id));
  }

  /**
   * Closing a round publishes our next demand, which can complete the next round at once (a lone
   * member, or everyone else's demands already in). Rounds must then close in a loop, not by
   * recursion through #publish: thousands of such rounds overflowed the stack and killed the node.
   */
  #closeRounds(e: EpochState): void {
    if (this.#closing) {
      this.#closePending = true;
      return;
    }
    this.#closing = true;
    try {
      let next: EpochState | null = e;
      while (next) {
        this.#closePending = false;
        this.#closeReadyRounds(next);
        next = this.#closePending ? this.#epoch : null;
      }
    } finally {
      this.#closing = false;
    }
  }

  #closeReadyRounds(e: EpochState): void {
    while (this.#epoch === e && e.status === "running" && this.#missing(e).length === 0) {
      const have = e.demands.get(e.round) as Map<AgentId, DemandMessage>;
      const demands = e.members.map((id) => have.get(id) as DemandMessage);
      const step = stepPrices(this.#contract, e.ruleState, e.prices, demands);
      const closed = e.round;
      e.lastResidual = step.residual;
      this.#out.push({
        type: "round-closed",
        epoch: e.number,
        round: closed,
        prices: e.prices,
        nextPrices: step.prices,
        residual: step.residual,
        converged: step.converged,
      });
      if (this.#isMember()) this.#publishVote(e, closed + 1, step.prices, demands);
      const candidate: RoundOutcome = {
        round: closed,
        prices: e.prices,
        demands,
        residual: step.residual,
        feasible: isFeasible(this.#contract, demands),
      };
      if (!e.best || betterOutcome(candidate, e.best)) e.best = candidate;
      if (step.converged) {
        this.#settle(e, candidate, null);
        return;
      }
      // The stall rule (stall-rule.ts): the residual shrinks too slowly to reach the tolerance
      // within the epoch's round budget (a fixed fee leaving no exact clearing price, a member
      // whose demands oscillate, a price beyond the wire's bound). Settle for the best round seen,
      // flagged approximate. All nodes see the same residuals, so all stop together.
      if (step.stall !== null) {
        this.#log("warn", "no exact equilibrium: committing the best round seen, flagged approximate", {
          epoch: e.number,
          round: closed,
          best: e.best.round,
          residual: e.best.residual,
          reason: step.stall,
        });
        this.#settle(e, e.best, step.stall);
        return;
      }
      e.round = closed + 1;
      e.prices = step.prices;
      e.ruleState = step.state;
      e.openedAt = this.#now;
      e.pricesByRound.set(e.round, step.prices);
      this.#dropMismatched(e);
      this.#forget(e, closed - 1);
      if (this.#isMember() && !this.#myProposal) this.#publishDemand(e);
      if (this.#myProposal) this.#considerNextEpoch();
    }
  }

  /** `stall` null: an exact equilibrium; otherwise why the epoch settles for an approximate one. */
  #settle(e: EpochState, outcome: RoundOutcome, stall: StallReason | null): void {
    const approximate = stall !== null;
    const settled = settledAllocations(this.#contract, outcome, approximate);
    e.status = "converged";
    e.commitsSyncedAt = this.#now;
    e.commit = {
      v: 1,
      kind: "commit",
      contract: this.#id,
      epoch: e.number,
      round: outcome.round,
      members: [...e.members],
      prices: outcome.prices,
      allocations: settled.allocations,
      residual: settled.residual,
      ...(stall !== null ? { approximate: true, reason: stall } : {}),
    } as unknown as CommitBody;
    e.commitDigest = commitBodyDigest(e.commit);
    this.#log("info", approximate ? "approximate equilibrium settled" : "equilibrium reached", {
      epoch: e.number,
      round: outcome.round,
      prices: outcome.prices,
    });
    if (this.#isMember()) this.#publishCommit(e);
    this.#tryCertify(e);
    this.#considerNextEpoch();
  }

  /** Demands held for a round before its price was known, that turn out to answer another price. */
  #dropMismatched(e: EpochState): void {
    const round = e.demands.get(e.round);
    if (!round) return;
    for (const [id, d] of round) {
      if (!samePrices(d.prices, e.prices)) {
        round.delete(id);
        this.#slots.delete(slotOf(d));
        this.#out.push({ type: "dropped", reason: "price-mismatch", message: d });
      }
    }
  }

  /** Rounds two behind can no longer be asked for by an honest peer in lockstep. */
  #forget(e: EpochState, round: number): void {
    e.demands.delete(round);
    e.votes.delete(round);
    e.pricesByRound.delete(round);
  }

  #publishDemand(e: EpochState): void {
    const signer = this.#signer;
    const profile = this.#profile;
    if (!signer || !profile || e.demands.get(e.round)?.has(signer.id)) return;
    const honest = bestResponse(profile, this.#contract, e.prices, e.lastX);
    const d = this.#misreport ? this.#misreport(honest, e.round) : honest;
    e.lastX = d.x;
    this.#publish<DemandMessage>({
      v: 1,
      kind: "demand",
      contract: this.#id,
      agent: signer.id,
      epoch: e.number,
      round: e.round,
      prices: e.prices,
      x: d.x,
      slope: d.slope,
      footprint: profile.footprint,
    });
  }

  #publishVote(e: EpochState, round: number, prices: number[], demands: readonly DemandMessage[]): void {
    const signer = this.#signer;
    if (!signer || e.votes.get(round)?.has(signer.id)) return;
    this.#publish<PriceMessage>({
      v: 1,
      kind: "price",
      contract: this.#id,
      agent: signer.id,
      epoch: e.number,
      round,
      prices,
      demandSet: demandSetDigest(demands),
    });
  }

  #publishCommit(e: EpochState): void {
    const signer = this.#signer;
    if (!signer || !e.commit || e.commits.has(signer.id)) return;
    this.#publish<CommitMessage>({ ...e.commit, agent: signer.id });
  }

  #tryCertify(e: EpochState): void {
    if (!e.commit || !e.commitDigest) return;
    const matching = [...e.commits.values()].filter(
      (c) => commitBodyDigest(commitBody(c)) === e.commitDigest,
    );
    const quorum = quorumSize(this.#contract, e.members.length);
    const have = e.certificate?.signatures.length ?? 0;
    if (matching.length < quorum || matching.length <= have) return;
    const certificate = buildCertificate(matching);
    const first = e.certificate === null;
    e.certificate = certificate;
    if (first) this.#certificates.push(certificate);
    else this.#certificates[this.#certificates.length - 1] = certificate;
    const complete = matching.length === e.members.length;
    this.#out.push({ type: "certificate", certificate, complete });
    if (first) this.#log("info", "certificate assembled", { epoch: e.number, signers: matching.length });
  }

  #certificateComplete(e: EpochState): boolean {
    return e.certificate !== null && e.certificate.signatures.length === e.members.length;
  }

  // ---- epochs -----------------------------------------------------------------------------

  #isMember(): boolean {
    const me = this.#signer?.id;
    return me !== undefined && this.#epoch?.memberSet.has(me) === true && !this.#leaves.has(me);
  }

  #heartbeat(e: EpochState): void {
    const signer = this.#signer;
    if (!signer) return;
    this.#lastHeartbeat = this.#now;
    this.#publish<AliveMessage>({
      v: 1,
      kind: "alive",
      contract: this.#id,
      agent: signer.id,
      epoch: e.number,
      seq: Math.max(0, Math.floor(this.#now)),
    });
  }

  #announce(): void {
    const signer = this.#signer;
    if (!signer) return;
    this.#lastAnnounce = this.#now;
    this.#joinSeq += 1;
    this.#publish<JoinMessage>({
      v: 1,
      kind: "join",
      contract: this.#id,
      agent: signer.id,
      epoch: this.#epoch?.number ?? 0,
      seq: this.#joinSeq,
    });
  }

  /**
   * Decide whether this node, as a member, should propose a next epoch: someone asked to join,
   * a member left, or the round has been stuck past the contract's timeout (silent members).
   */
  #considerNextEpoch(): void {
    const me = this.#signer?.id;
    if (!me || this.#replaying) return;
    const e = this.#epoch;
    const allowedJoins = this.#liveJoiners().filter((id) => !e?.memberSet.has(id));
    if (!e) {
      if (this.#now - this.#startedAt < this.#contract.timeouts.announceMs) return;
      const members = sortedUnique([me, ...allowedJoins]);
      if (members.length < this.#contract.minMembers) return;
      this.#propose(this.#withOthers({ epoch: 0, members, base: null }));
      return;
    }
    if (!this.#isMember()) return;
    const horizon = this.#now - this.#contract.timeouts.roundMs;
    const heardFrom = (id: AgentId) => (this.#seen.get(id) ?? Number.NEGATIVE_INFINITY) >= horizon;
    const stuck =
      e.status === "running"
        ? this.#now - e.openedAt >= this.#contract.timeouts.roundMs
        : e.members.some((id) => id !== me && !this.#leaves.has(id) && !heardFrom(id));
    if (allowedJoins.length === 0 && this.#leaves.size === 0 && !stuck) {
      this.#withdraw(e);
      return;
    }
    const book = this.#proposals.get(e.number + 1);
    const current = e.demands.get(e.round);
    const alive = (id: AgentId) =>
      id === me ||
      !stuck ||
      book?.has(id) === true ||
      (e.status === "running" ? current?.has(id) === true : heardFrom(id));
    const members = sortedUnique([
      ...e.members.filter((id) => !this.#leaves.has(id) && alive(id)),
      ...allowedJoins,
    ]);
    if (!keepsMajority(this.#stayers(e), members)) {
      if (stuck)
        this.#log("warn", "too few members reachable to move on; waiting", {
          epoch: e.number,
          alive: members.length,
        });
      return;
    }
    const base: EpochBase = { epoch: e.number, round: e.round, prices: e.prices };
    this.#propose({ epoch: e.number + 1, members, base });
  }

  /**
   * The members the majority rule counts: a graceful leave is consent, not a partition, so
   * leavers do not count against the rest (two members, one leaves: the other goes on).
   */
  #stayers(e: EpochState): AgentId[] {
    return e.members.filter((id) => !this.#leaves.has(id));
  }

  /** Joiners heard from within a round timeout (they re-announce every announceMs until admitted). */
  #liveJoiners(): AgentId[] {
    const horizon = this.#now - this.#contract.timeouts.roundMs;
    const target = this.#epoch ? this.#epoch.number + 1 : 0;
    const book = this.#proposals.get(target);
    for (const [id, j] of this.#joins) {
      if (j.seenAt < horizon) {
        this.#joins.delete(id);
        this.#slots.delete(slotOf(j.message));
        continue;
      }
      // An honest joiner echoes a plan naming it at once. One that keeps announcing but never
      // echoes would hold every member's proposal (and so a running market) hostage: after a
      // round timeout it is left out for two more, then may be invited again. (Not while the
      // first epoch forms: there everyone is a "joiner", and minMembers says whom to wait for.)
      const snubbedUntil = this.#snubbed.get(id);
      if (snubbedUntil !== undefined && snubbedUntil <= this.#now) {
        this.#snubbed.delete(id);
        this.#invitedAt.delete(id);
      }
      const invited = this.#invitedAt.get(id);
      if (this.#epoch && invited !== undefined && invited < horizon && !this.#snubbed.has(id)) {
        const echo = book?.get(id);
        const mine = this.#myProposal;
        if (!echo || !mine || planKey(echo) !== planKey(mine)) {
          this.#snubbed.set(id, this.#now + 2 * this.#contract.timeouts.roundMs);
          this.#log("warn", "joiner did not echo the plan naming it; leaving it out for now", { agent: id });
        }
      }
    }
    return [...this.#joins.entries()]
      .filter(([id]) => this.#allowed(id) && !this.#snubbed.has(id))
      .map(([id]) => id);
  }

  /** Nothing to change after all (a joiner went quiet): stop waiting on our proposal and go on. */
  #withdraw(e: EpochState): void {
    if (!this.#myProposal || this.#myProposal.epoch !== e.number + 1) return;
    this.#myProposal = null;
    this.#log("info", "withdrawing epoch proposal", { epoch: e.number + 1 });
    if (e.status === "running") this.#publishDemand(e);
  }

  /** Our plan, or a better one another member already proposed that names us (views converge). */
  #withOthers(plan: EpochPlan): EpochPlan {
    const other = this.#bestPlanIncludingMe(plan.epoch);
    return other ? preferPlan(plan, other) : plan;
  }

  #bestPlanIncludingMe(epoch: number): EpochPlan | null {
    const me = this.#signer?.id;
    const book = this.#proposals.get(epoch);
    if (!me || !book) return null;
    let best: EpochPlan | null = null;
    for (const m of book.values()) {
      if (m.agent === me || !m.members.includes(me)) continue;
      const plan: EpochPlan = { epoch: m.epoch, members: m.members as AgentId[], base: m.base };
      best = best ? preferPlan(best, plan) : plan;
    }
    return best;
  }

  #propose(plan: EpochPlan): void {
    const signer = this.#signer;
    if (!signer || this.#replaying) return;
    const mine = this.#myProposal;
    if (mine && mine.epoch === plan.epoch && planKey(mine) === planKey(plan)) return;
    const used = this.#proposalSeqs.get(plan.epoch);
    const seq = used === undefined ? 0 : used + 1;
    const message = this.#publish<EpochMessage>({
      v: 1,
      kind: "epoch",
      contract: this.#id,
      agent: signer.id,
      epoch: plan.epoch,
      seq,
      members: [...plan.members],
      base: plan.base,
    });
    if (message) {
      const current = this.#epoch?.memberSet;
      for (const id of plan.members)
        if (id !== signer.id && !current?.has(id) && !this.#invitedAt.has(id))
          this.#invitedAt.set(id, this.#now);
      this.#proposalSeqs.set(plan.epoch, seq);
      this.#myProposal = message;
      this.#log("info", "proposing epoch", { epoch: plan.epoch, members: plan.members.length });
      this.#onProposalRecorded(message);
    }
  }

  #onProposalRecorded(m: EpochMessage): void {
    recordProposal(bucket(this.#proposals, m.epoch), m);
    this.#tryAdopt(m.epoch);
  }

  #tryAdopt(epoch: number): void {
    const book = this.#proposals.get(epoch);
    const e = this.#epoch;
    if (!book) return;
    if (e && epoch < e.number) return;
    const plans = settledPlans(book).filter(
      (p) => !e || p.base === null || p.base.epoch !== e.number || keepsMajority(this.#stayers(e), p.members),
    );
    const best = plans[0];
    if (!best) return;
    if (e && epoch === e.number) {
      const ours: EpochPlan = { epoch, members: e.members, base: e.base };
      if (planKey(best) === planKey(ours) || preferPlan(ours, best) === ours) return;
    }
    this.#startEpoch(best);
  }

  #startEpoch(plan: EpochPlan): void {
    const R = this.#contract.resources.length;
    const prices = plan.base
      ? [...plan.base.prices]
      : [...(this.#contract.initialPrices ?? new Array(R).fill(0))];
    const previous = this.#epoch;
    const e: EpochState = {
      number: plan.epoch,
      members: plan.members,
      memberSet: new Set(plan.members),
      base: plan.base,
      round: 0,
      prices,
      ruleState: initialPriceRuleState(this.#contract),
      openedAt: this.#now,
      syncedAt: Number.NEGATIVE_INFINITY,
      status: "running",
      lastResidual: null,
      pricesByRound: new Map([[0, prices]]),
      demands: new Map(),
      votes: new Map(),
      commits: new Map(),
      commit: null,
      commitDigest: null,
      commitsSyncedAt: this.#now,
      certificate: null,
      lastX: previous?.lastX,
      best: null,
    };
    this.#epoch = e;
    // Every member starts the epoch with a full round timeout of grace.
    for (const id of plan.members) this.#seen.set(id, this.#now);
    for (const id of plan.members) this.#joins.delete(id);
    this.#invitedAt.clear();
    this.#snubbed.clear();
    this.#leaves.clear();
    for (const n of [...this.#proposals.keys()]) if (n <= plan.epoch) this.#proposals.delete(n);
    if (this.#myProposal && this.#myProposal.epoch <= plan.epoch) this.#myProposal = null;
    for (const n of [...this.#proposalSeqs.keys()]) if (n < plan.epoch) this.#proposalSeqs.delete(n);
    for (const [slot, { message }] of this.#slots)
      if (message.kind !== "join" && message.epoch < plan.epoch - 1) this.#slots.delete(slot);
    const member = this.#isMember();
    this.#out.push({
      type: "epoch-started",
      epoch: plan.epoch,
      members: plan.members,
      base: plan.base,
      member,
    });
    this.#log("info", "epoch started", { epoch: plan.epoch, members: plan.members.length, member });
    if (member && !this.#replaying) this.#publishDemand(e);
    if (!member && this.#signer) this.#lastAnnounce = Number.NEGATIVE_INFINITY;
    const held = this.#held.filter((m) => m.kind !== "join" && m.epoch >= plan.epoch);
    this.#held = [];
    for (const m of held) {
      if (m.kind !== "join" && m.epoch > plan.epoch) {
        this.#held.push(m);
        continue;
      }
      this.#slots.delete(slotOf(m));
      const verdict = this.check(m);
      if (verdict.verdict === "accept") this.#onMessage(m);
      else if (verdict.verdict === "reject")
        this.#out.push({ type: "dropped", reason: verdict.reason, message: m });
    }
    this.#closeRounds(e);
  }

  #hold(m: WireMessage): void {
    if (this.#held.length >= MAX_HELD) this.#held.shift();
    this.#held.push(m);
  }

  #wantMembership(epoch: number): void {
    if (this.#now - this.#lastMembershipSync < this.#contract.timeouts.announceMs) return;
    this.#lastMembershipSync = this.#now;
    this.#sync({ epoch, kinds: ["epoch"] });
  }

  // ---- output -----------------------------------------------------------------------------

  #publish<M extends WireMessage>(unsigned: Unsigned<M>): M | null {
    const signer = this.#signer;
    if (!signer || this.#replaying) return null;
    const message = signMessage<M>(unsigned, signer);
    this.#slots.set(slotOf(message), { digest: messageDigest(message), message });
    const e = this.#epoch;
    if (e && message.kind !== "join" && message.kind !== "epoch" && message.epoch === e.number) {
      if (message.kind === "demand") bucket(e.demands, message.round).set(message.agent, message);
      else if (message.kind === "price") bucket(e.votes, message.round).set(message.agent, message);
      else if (message.kind === "commit") {
        e.commits.set(message.agent, message);
      }
    }
    this.#out.push({ type: "publish", message });
    if (e && message.kind === "demand") this.#closeRounds(e);
    if (e && message.kind === "commit") this.#tryCertify(e);
    return message;
  }

  #sync(want: SyncWant): void {
    if (!this.#replaying) this.#out.push({ type: "sync", want });
  }

  #log(level: "debug" | "info" | "warn", msg: string, fields?: Record<string, unknown>): void {
    if (!this.#replaying) this.#out.push({ type: "log", level, msg, ...(fields ? { fields } : {}) });
  }

  // ---- views ------------------------------------------------------------------------------

  status(): MachineStatus {
    const e = this.#epoch;
    const me = this.#signer?.id ?? null;
    const votes = e ? e.votes.get(e.round) : undefined;
    const ours = e ? e.pricesByRound.get(e.round) : undefined;
    let status: MarketStatus = "joining";
    if (e && (this.#isMember() || !this.#signer)) {
      status = e.status;
      if (e.status === "running" && this.#now - e.openedAt >= this.#contract.timeouts.roundMs)
        status = "stalled";
    }
    const own = e && me ? (e.commit?.allocations.find((a) => a.agent === me)?.x ?? e.lastX ?? null) : null;
    return {
      contractId: this.#id,
      agent: me,
      status,
      epoch: e?.number ?? null,
      members: e?.members ?? [],
      member: this.#isMember(),
      round: e?.round ?? null,
      prices: e ? (e.commit?.prices ?? e.prices) : [],
      residual: e?.lastResidual ?? null,
      agreement:
        votes && ours
          ? {
              matching: [...votes.values()].filter((v) => samePrices(v.prices, ours)).length,
              received: votes.size,
            }
          : null,
      allocation: own,
      certificate: e?.certificate ?? this.#certificates.at(-1) ?? null,
      pendingJoins: this.#liveJoiners(),
      equivocations: this.#equivocations,
    };
  }

  certificates(): readonly Certificate[] {
    return this.#certificates;
  }

  nextDeadline(): number {
    // Timeouts here are checked by polling; the machine's rewrite names each deadline.
    return this.#now + POLL_MS;
  }
}

/** How often the machine wants a tick while its deadlines are polled. */
const POLL_MS = 100;

/** The inner map for `key`, created empty on first use. */
function bucket<K, IK, IV>(outer: Map<K, Map<IK, IV>>, key: K): Map<IK, IV> {
  let inner = outer.get(key);
  if (!inner) {
    inner = new Map();
    outer.set(key, inner);
  }
  return inner;
}

function reject(reason: Extract<Verdict, { verdict: "reject" }>["reason"], detail: string): Verdict {
  return { verdict: "reject", reason, detail };
}

function ignore(reason: Extract<Verdict, { verdict: "ignore" }>["reason"], detail: string): Verdict {
  return { verdict: "ignore", reason, detail };
}

/** Bit-for-bit equality: honest nodes compute identical prices, so anything else is a fault. */
function samePrices(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
}

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** The digest a price vote names: over the sorted digests of the demands it was computed from. */
export function demandSetDigest(demands: readonly DemandMessage[]): Digest {
  const digests = demands.map((d) => messageDigest(d)).sort();
  return asDigest(sha256Hex(canonicalBytes(digests)));
}
