import type { AgentProfile } from "../economics/agent.ts";
import { bestResponse, unitPrice } from "../economics/best-response.ts";
import { initialPriceRuleState, type PriceRuleState, stepPrices } from "../economics/price-rule.ts";
import { aggregateSupply } from "../economics/residual.ts";
import { settledAllocations } from "../economics/settlement.ts";
import type { StallReason } from "../economics/stall-rule.ts";
import type { CommitBody } from "../wire/certificate.ts";
import type { Contract } from "../wire/contract.ts";
import type { AgentId, ContractId, Digest } from "../wire/ids.ts";
import {
  type CommitMessage,
  type DemandMessage,
  type EpochBase,
  PROTOCOL_VERSION,
} from "../wire/messages.ts";
import { DivergenceProbe } from "./divergence-probe.ts";
import type { MachineContext } from "./machine-context.ts";
import { bucket } from "./nested-map.ts";
import { samePrices } from "./validate.ts";

/**
 * Missing demands are first asked for once none of the open round's demands has come in for
 * roundMs / QUIET_DIVISOR, counted from the round's opening at the earliest: an eighth, 625 ms at
 * the bench's 5 s, is many times the gap between two members' demands at a node while a round is
 * arriving (tens of ms for 50 members), and short against the timeout. Not also at least a
 * quarter timeout in, unless catch-up is failing (STRAINED_DIVISOR): on a young network, a star
 * around its bootstrap node whose mesh holds 12 of 49 leaves, the leaves outside it hear the
 * others' demands only from IHAVE gossip or sync, and every round waited that quarter for them
 * (docs/scaling.md §5).
 */
const QUIET_DIVISOR = 8;

/**
 * While this node's catch-up is failing (its last `messages` request timed out, was refused or
 * failed), the first ask also waits for a quarter timeout after the round opened. On a machine
 * loaded everywhere (100 node processes on 2 cores) a round's demands take seconds to arrive, an
 * eighth of quiet comes while some are still in flight, and the early asks, most of which time
 * out there, add to the load that makes them late: with the eighth alone 100 processes certified
 * ~20 s later than with the quarter floor. Answered requests bring the eighth back at the next
 * round, so a young star that sync serves well keeps it (docs/scaling.md §5).
 */
const STRAINED_DIVISOR = 4;

/**
 * When to ask again for a round's demands still missing after `asks` requests, the first sent at
 * `first`: once roundMs/8 after it, then on the half-timeout pace counted from it (t, t + roundMs/8,
 * t + roundMs/2, t + roundMs, …), from the first ask's time rather than each tick's, so that late
 * ticks on a busy node do not add up. The last member to start a round publishes its demand after
 * the others have asked; a request answered just before that demand reached the peers asked comes
 * back without it, and at the half-timeout pace alone one such miss cost a node 2.5 s of the
 * bench's 5 s timeout while every other node waited on its next demand (50 processes: the last few
 * nodes closed epoch 0's first round 2.5 s after asking for the one demand they lacked, and got it
 * at once when they asked again). The later asks keep the old times: a request lost on the way is
 * noticed only at the sync client's timeout (roundMs, 1–3 s, longer while answers come late;
 * sync-timeout.ts, sync-request-timer.ts), and an ask for the same missing members meanwhile
 * merges into it (sync-queue.ts), so a faster pace would not ask sooner there, and one that
 * drifts off the old times (doubling: t + 11·roundMs/8 at roundMs ≤ 3 s) asks later.
 */
function nextDemandAsk(roundMs: number, first: number, asks: number, now: number): number {
  const early = roundMs / QUIET_DIVISOR;
  // A node whose tick came more than a half timeout late does not ask twice in a row.
  return Math.max(now + early, asks === 1 ? first + early : first + ((asks - 1) * roundMs) / 2);
}

interface RoundOutcome {
  readonly round: number;
  readonly prices: number[];
  readonly demands: readonly DemandMessage[];
  readonly residual: number;
  /** How far from converging (price-rule.ts `gap`): what "best round" is judged by. */
  readonly gap: number;
  readonly feasible: boolean;
}

/** What an epoch's market runs under: decided with its plan, fixed for the epoch. */
export interface EpochTerms {
  readonly number: number;
  readonly members: readonly AgentId[];
  /** The terms in effect: the contract, or amended terms. */
  readonly terms: Contract;
  readonly termsId: ContractId;
  /** The terms are amended (the commit names them). */
  readonly amended: boolean;
  /** The ledger's tip when the epoch was planned: the commit's `previous`. */
  readonly ledger: Digest | null;
}

/** The market of one epoch as this node holds it. */
interface EpochMarket extends EpochTerms {
  /** The agent's bid for this epoch: a new one takes effect at the next epoch (slot). */
  readonly profile: AgentProfile | null;
  /** The x of the agent's newest demand before this epoch: round 0's proximal anchor. */
  readonly carried: number | undefined;
  round: number;
  prices: number[];
  ruleState: PriceRuleState;
  /** When the open round opened (or the node resumed): the round timeout counts from here. */
  openedAt: number;
  /** When a demand for the open round last came in (-Infinity when none has yet). */
  inflowAt: number;
  /** Requests for the open round's missing demands so far, the first at `firstAskAt` (nextDemandAsk). */
  demandAsks: number;
  firstAskAt: number;
  status: "running" | "converged";
  lastResidual: number | null;
  /** p^k this node computed, by round, to check demands against. */
  readonly pricesByRound: Map<number, number[]>;
  readonly demands: Map<number, Map<AgentId, DemandMessage>>;
  /** Demands of the open round that answered other prices than ours (disagreement, for status). */
  mismatched: number;
  /** Members whose demand this node accepted in this epoch: they are live and caught up. */
  readonly bidders: Set<AgentId>;
  best: RoundOutcome | null;
}

export interface MarketHooks {
  /** The epoch settled on `body` (exact or approximate): commit it. */
  settled(epoch: number, body: CommitBody): void;
  /** Whether this node's agent bids in the current epoch (a member, not an observer). */
  bidding(): boolean;
}

/**
 * Rounds within one epoch (docs/protocol.md §6): each member's demand at p^k, the round closing
 * when every member's demand is in, the next prices computed from that demand set alone in
 * agent-id order, and the stopping or settling rule. Every honest node closes every round on the
 * same demand set, so all compute the same bits.
 */
export class Market {
  readonly #ctx: MachineContext;
  readonly #hooks: MarketHooks;
  #e: EpochMarket | null = null;
  /**
   * The agent's newest demand (its slot and x), signed or read back — from the store on replay, or
   * from a peer: what it reports, and what the next epoch's first demand starts from (`carried`).
   */
  #anchor: { readonly epoch: number; readonly round: number; readonly x: number } | null = null;
  #closing = false;
  #settledAt: number | null = null;
  #closePending = false;
  /** How this node's last `messages` sync request ended: the first ask's floor follows it (#arm). */
  #catchUpAnswered = true;
  /** How long this node's last `messages` sync request was waited for (null: none yet). */
  #syncWaitMs: number | null = null;
  readonly #probe: DivergenceProbe;

  constructor(ctx: MachineContext, hooks: MarketHooks) {
    this.#ctx = ctx;
    this.#hooks = hooks;
    this.#probe = new DivergenceProbe(ctx);
  }

  start(epoch: EpochTerms, prices: number[]): void {
    const now = this.#ctx.now;
    this.#settledAt = null;
    this.#probe.stop();
    this.#e = {
      ...epoch,
      // The bid this epoch started with, also when replayed after a restart (bid-history.ts).
      profile: this.#ctx.bids.at(epoch.number),
      carried: this.#anchor?.x,
      round: 0,
      prices,
      ruleState: initialPriceRuleState(epoch.terms),
      openedAt: now,
      inflowAt: Number.NEGATIVE_INFINITY,
      demandAsks: 0,
      firstAskAt: now,
      status: "running",
      lastResidual: null,
      pricesByRound: new Map([[0, prices]]),
      demands: new Map(),
      mismatched: 0,
      bidders: new Set(),
      best: null,
    };
    this.#arm();
    this.#publishDemand();
    this.#closeRounds();
  }

  get epoch(): number | null {
    return this.#e?.number ?? null;
  }

  round(): number | null {
    return this.#e?.round ?? null;
  }

  pricesAt(round: number): readonly number[] | undefined {
    return this.#e?.pricesByRound.get(round);
  }

  onDemand(m: DemandMessage): void {
    const e = this.#e;
    if (!e || m.epoch !== e.number) return;
    bucket(e.demands, m.round).set(m.agent, m);
    e.bidders.add(m.agent);
    if (m.agent === this.#ctx.me) this.#noteOwn(m);
    if (m.round === e.round) e.inflowAt = this.#ctx.now;
    this.#closeRounds();
  }

  /**
   * A member's demand that answered other prices than ours: counted for the agreement view, and a
   * sign that its sender closed some round up to `m.round` − 1 on another demand set than we did:
   * ask for the demands of those rounds (docs/protocol.md §5.1, divergence-probe.ts).
   */
  onMismatch(m: DemandMessage): void {
    const e = this.#e;
    if (!e || m.epoch !== e.number) return;
    if (m.round === e.round) e.mismatched += 1;
    if (e.members.includes(m.agent)) this.#probe.ask(e.number, m.round - 1, e.round, e.members, m.agent);
  }

  /**
   * A member's commit of this epoch names another body than the one we settled on (certify.ts):
   * ask for the demands of every round up to the later of the two settled on, ours and theirs
   * (none after our own round: theirs is a peer's number).
   */
  onDivergentCommit(m: CommitMessage, own: CommitBody): void {
    const e = this.#e;
    if (!e || m.epoch !== e.number || !e.members.includes(m.agent)) return;
    this.#probe.ask(e.number, Math.max(own.round, m.round), e.round, e.members, m.agent);
  }

  /** A proof against a member of `epoch` (conviction.ts): the divergence it explains is found. */
  onConvicted(epoch: number): void {
    this.#probe.proven(epoch);
  }

  /**
   * One of this node's `messages` sync requests ended: answered, or not (timed out, refused,
   * failed), after waiting at most `timeoutMs` for it.
   */
  onSyncEnded(answered: boolean, timeoutMs: number): void {
    this.#catchUpAnswered = answered;
    this.#syncWaitMs = timeoutMs;
  }

  /** The timeout of this node's last ended `messages` request (null: none ended yet). */
  syncWaitMs(): number | null {
    return this.#syncWaitMs;
  }

  onTick(): void {
    // Before the running check: a divergent commit walks an epoch this node already settled.
    this.#probe.onTick();
    const e = this.#e;
    const { timers, now } = this.#ctx;
    if (e?.status !== "running") return;
    // Ask again while anything is missing: a peer that had it may not have been the one asked,
    // and differing views of who is alive would slow the next epoch.
    if (timers.due("demand-sync", now)) {
      const { roundMs } = this.#ctx.contract.timeouts;
      const missing = this.missing();
      if (missing.length > 0) {
        // The first ask waits for the round's demands to stop coming in: while they still do,
        // gossip is working and the missing ones are most likely in flight. When every node is
        // slow at once (50 node processes on 2 cores: rounds of 2–4 s at a 5 s timeout), asking a
        // fixed quarter timeout in had every node ask at once, mostly for demands gossip was about
        // to bring, and a quarter of the requests timed out at their busiest peers. Never later
        // than half the timeout, so a trickle cannot put it off.
        const quietAt = Math.max(e.openedAt, e.inflowAt) + roundMs / QUIET_DIVISOR;
        const latest = e.openedAt + roundMs / 2;
        if (e.demandAsks === 0 && now < latest && now < quietAt) {
          timers.set("demand-sync", Math.min(quietAt, latest));
          return;
        }
        // Only the open round's: a node in round k closed k−1 holding every member's demand.
        // Asking for all of k−1 as well (as this did until #10) fetched demands the node held:
        // half of a 50-node network's sync requests, every node asking while all were slow.
        this.#ctx.out.sync({
          type: "messages",
          epoch: e.number,
          round: e.round,
          kinds: ["demand"],
          from: missing,
        });
        if (e.demandAsks === 0) e.firstAskAt = now;
        e.demandAsks += 1;
      }
      timers.set(
        "demand-sync",
        e.demandAsks === 0 ? now + roundMs / 2 : nextDemandAsk(roundMs, e.firstAskAt, e.demandAsks, now),
      );
    }
  }

  /** After a restart: the round gets a fresh timeout, and our demand for it goes out if missing. */
  resume(): void {
    const e = this.#e;
    if (!e) return;
    e.openedAt = this.#ctx.now;
    if (e.status === "running") {
      this.#arm();
      this.#publishDemand();
    }
  }

  stop(): void {
    this.#e = null;
    this.#probe.stop();
    this.#ctx.timers.clear("round-stuck");
    this.#ctx.timers.clear("demand-sync");
  }

  /** Members whose demand for the open round is missing. */
  missing(): AgentId[] {
    const e = this.#e;
    if (e?.status !== "running") return [];
    const have = e.demands.get(e.round);
    return e.members.filter((id) => !have?.has(id));
  }

  /** The open round has waited `roundMs` for demands: the members still missing, else null. */
  stuck(): AgentId[] | null {
    const e = this.#e;
    if (e?.status !== "running") return null;
    if (this.#ctx.now - e.openedAt < this.#ctx.contract.timeouts.roundMs) return null;
    return this.missing();
  }

  /** Members that bid in this epoch (any round). */
  bidders(): ReadonlySet<AgentId> {
    return this.#e?.bidders ?? new Set();
  }

  /** When the open round opened, or null when none is open. */
  openSince(): number | null {
    const e = this.#e;
    return e?.status === "running" ? e.openedAt : null;
  }

  /** When the epoch settled (this node's clock), or null while it runs. */
  settledAt(): number | null {
    return this.#e?.status === "converged" ? this.#settledAt : null;
  }

  /** The bid this epoch's demands answer with. */
  profile(): AgentProfile | null {
    return this.#e?.profile ?? null;
  }

  converged(): boolean {
    return this.#e?.status === "converged";
  }

  /** Where a next epoch starts from: this epoch's open round, or the round it settled on. */
  base(): EpochBase | null {
    const e = this.#e;
    if (!e) return null;
    return { epoch: e.number, round: e.round, prices: e.prices };
  }

  view(): {
    status: "running" | "converged";
    round: number;
    prices: readonly number[];
    residual: number | null;
    openedAt: number;
    agreement: { matching: number; received: number };
    lastX: number | undefined;
  } | null {
    const e = this.#e;
    if (!e) return null;
    const matching = e.demands.get(e.round)?.size ?? 0;
    return {
      status: e.status,
      round: e.round,
      prices: e.prices,
      residual: e.lastResidual,
      openedAt: e.openedAt,
      agreement: { matching, received: matching + e.mismatched },
      lastX: this.#anchor?.x,
    };
  }

  #arm(): void {
    const e = this.#e;
    if (!e) return;
    const { roundMs } = this.#ctx.contract.timeouts;
    this.#ctx.timers.set("round-stuck", e.openedAt + roundMs);
    // A demand lost on the way is asked for an eighth (a quarter while catch-up fails) to half of
    // the timeout in, once the round's other demands stop coming in (onTick): a round with a lost
    // demand then costs that, and a late member its lateness (the sync answers it if it has come).
    e.demandAsks = 0;
    const floor = roundMs / (this.#catchUpAnswered ? QUIET_DIVISOR : STRAINED_DIVISOR);
    this.#ctx.timers.set("demand-sync", e.openedAt + floor);
  }

  /**
   * Closing a round publishes our next demand, which can complete the next round at once (a lone
   * member, or everyone else's demands already in). Rounds must then close in a loop, not by
   * recursion through publishing: thousands of such rounds overflowed the stack and killed a node.
   */
  #closeRounds(): void {
    if (this.#closing) {
      this.#closePending = true;
      return;
    }
    this.#closing = true;
    try {
      do {
        this.#closePending = false;
        this.#closeReadyRounds();
      } while (this.#closePending);
    } finally {
      this.#closing = false;
    }
  }

  #closeReadyRounds(): void {
    const ctx = this.#ctx;
    for (let e = this.#e; e && this.#e === e && e.status === "running" && this.#complete(e); ) {
      const have = e.demands.get(e.round) as Map<AgentId, DemandMessage>;
      const demands = e.members.map((id) => have.get(id) as DemandMessage);
      const contract = e.terms;
      const step = stepPrices(contract, e.ruleState, e.prices, demands);
      const closed = e.round;
      e.lastResidual = step.residual;
      ctx.out.emit({
        type: "round-closed",
        epoch: e.number,
        round: closed,
        prices: e.prices,
        nextPrices: step.prices,
        residual: step.residual,
        converged: step.converged,
      });
      const candidate: RoundOutcome = {
        round: closed,
        prices: e.prices,
        demands,
        residual: step.residual,
        gap: step.gap,
        feasible: isFeasible(contract.resources, contract.tolerance.residual, demands),
      };
      if (!e.best || betterOutcome(candidate, e.best)) e.best = candidate;
      if (step.converged) {
        this.#settle(e, candidate, null);
        return;
      }
      // The stall rule (economics/stall-rule.ts): the residual shrinks too slowly to reach the
      // tolerance within the epoch's round budget (a fixed fee leaving no exact clearing price, a
      // member whose demands oscillate, a price at the protocol's ceiling). Settle for the best
      // round seen, flagged approximate. All nodes see the same residuals, so all stop together.
      if (step.stall !== null) {
        ctx.out.log("warn", "no exact equilibrium: committing the best round seen, flagged approximate", {
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
      e.openedAt = ctx.now;
      e.mismatched = 0;
      e.pricesByRound.set(e.round, step.prices);
      this.#dropMismatched(e);
      // Rounds two behind can no longer be asked for by an honest peer in lockstep.
      e.demands.delete(closed - 1);
      e.pricesByRound.delete(closed - 1);
      this.#arm();
      this.#publishDemand();
    }
  }

  /**
   * Every member's demand for the open round is in. Counting first: a check of every member on
   * every demand made a round cost n² at n members (10⁸ steps a round at 10,000).
   */
  #complete(e: EpochMarket): boolean {
    return (e.demands.get(e.round)?.size ?? 0) >= e.members.length && this.missing().length === 0;
  }

  /** `stall` null: an exact equilibrium; otherwise why the epoch settles for an approximate one. */
  #settle(e: EpochMarket, outcome: RoundOutcome, stall: StallReason | null): void {
    const approximate = stall !== null;
    const settled = settledAllocations(e.terms, outcome, approximate);
    e.status = "converged";
    this.#settledAt = this.#ctx.now;
    this.#ctx.timers.clear("round-stuck");
    this.#ctx.timers.clear("demand-sync");
    const body = {
      v: PROTOCOL_VERSION,
      kind: "commit",
      contract: this.#ctx.contractId,
      epoch: e.number,
      round: outcome.round,
      members: [...e.members],
      prices: outcome.prices,
      allocations: settled.allocations,
      residual: settled.residual,
      ...(stall !== null ? { approximate: true, reason: stall } : {}),
      previous: e.ledger,
      ...(e.amended ? { terms: e.termsId } : {}),
    } as unknown as CommitBody;
    this.#ctx.out.log("info", approximate ? "approximate equilibrium settled" : "equilibrium reached", {
      epoch: e.number,
      round: outcome.round,
      prices: outcome.prices,
    });
    this.#hooks.settled(e.number, body);
  }

  /** Demands held for a round before its price was known, that turn out to answer another price. */
  #dropMismatched(e: EpochMarket): void {
    const round = e.demands.get(e.round);
    if (!round) return;
    for (const [id, d] of round) {
      // Never our own: it was signed and published, and forgetting its slot would let this node
      // sign another for it (after a restart into a split round): equivocation by an honest node.
      if (id === this.#ctx.me) continue;
      if (!samePrices(d.prices, e.prices)) {
        round.delete(id);
        e.mismatched += 1;
        this.#ctx.slots.forget(d);
        this.#ctx.out.emit({ type: "dropped", reason: "price-mismatch", message: d });
        this.#probe.ask(e.number, d.round - 1, e.round, e.members, d.agent);
      }
    }
  }

  #publishDemand(): void {
    const e = this.#e;
    const ctx = this.#ctx;
    const me = ctx.me;
    const profile = e?.profile;
    if (e?.status !== "running" || !me || !profile || !this.#hooks.bidding()) return;
    if (e.demands.get(e.round)?.has(me)) return;
    const truthful = bestResponse(profile, e.terms, e.prices, this.#anchorFor(e, me));
    const d = ctx.misreport
      ? ctx.misreport(truthful, e.round, unitPrice(profile, e.terms, e.prices))
      : truthful;
    const message = ctx.out.publish<DemandMessage>({
      v: PROTOCOL_VERSION,
      kind: "demand",
      contract: ctx.contractId,
      agent: me,
      epoch: e.number,
      round: e.round,
      prices: e.prices,
      x: d.x,
      slope: d.slope,
      footprint: profile.footprint,
      ...(d.exit === undefined ? {} : { exit: d.exit }),
    });
    if (!message) return;
    this.#noteOwn(message);
    bucket(e.demands, message.round).set(me, message);
    e.bidders.add(me);
    this.#closeRounds();
  }

  /**
   * The proximal best response's anchor for the open round: the x of the agent's demand before it,
   * its own demand of the previous round (held: the round closed on it), or for round 0 the newest
   * before the epoch. That is the x the agent had signed last when it first signed this slot, and
   * a restarted node holds the same (its stored demands, replayed), so a demand it signs again for
   * a slot whose first copy a power cut lost is the same demand, bit for bit (docs/protocol.md
   * §10) — also when a copy of a later own demand reached it first.
   */
  #anchorFor(e: EpochMarket, me: AgentId): number | undefined {
    if (e.round === 0) return e.carried;
    return e.demands.get(e.round - 1)?.get(me)?.x ?? this.#anchor?.x;
  }

  /**
   * One of the agent's own demands, signed now or read back: the newest (epoch, round) is kept. A
   * peer's late copy of an older one must not move it back.
   */
  #noteOwn(m: DemandMessage): void {
    const a = this.#anchor;
    if (a && (m.epoch < a.epoch || (m.epoch === a.epoch && m.round <= a.round))) return;
    this.#anchor = { epoch: m.epoch, round: m.round, x: m.x };
  }
}

/** Feasible rounds first (no resource over capacity), then the smaller gap (price-rule.ts). */
function betterOutcome(a: RoundOutcome, b: RoundOutcome): boolean {
  if (a.feasible !== b.feasible) return a.feasible;
  return a.gap < b.gap;
}

function isFeasible(
  resources: readonly { capacity: number }[],
  tolerance: number,
  demands: readonly DemandMessage[],
): boolean {
  const supply = aggregateSupply(resources.length, demands);
  return resources.every((r, i) => (supply[i] as number) <= r.capacity * (1 + tolerance));
}
