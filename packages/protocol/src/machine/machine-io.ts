import type { AgentProfile } from "../economics/agent.ts";
import type { Certificate } from "../wire/certificate.ts";
import type { Contract } from "../wire/contract.ts";
import type { AgentId } from "../wire/ids.ts";
import type { EpochBase, EpochPlan, EquivocationProof, MessageKind, WireMessage } from "../wire/messages.ts";

/**
 * What goes into the agent machine and what comes out of it. The machine never reads a clock,
 * a socket or a disk: the node feeds it events stamped with the time and carries out its actions.
 */
export type MachineEvent =
  /** A message that passed `check`. `replay` marks one read back from the store after a restart. */
  | { type: "message"; now: number; message: WireMessage; replay?: boolean }
  /** Time passes; deadlines fire from here (see `nextDeadline`). */
  | { type: "tick"; now: number }
  /**
   * The node has a peer on the membership topic after having none: what it published meanwhile
   * reached no one (a live node's first join goes out before its first connection is up).
   */
  | { type: "linked"; now: number }
  /**
   * A bootstrap address's node answered for the first time: `peer` is its key (peer id = agent
   * id). A node without an epoch takes that peer's own decision messages by gossip, as it takes an
   * answer of that peer's to its ask (docs/protocol.md §9.3): the operator chose to trust it.
   */
  | { type: "bootstrap-peer"; now: number; peer: AgentId }
  /**
   * A peer answered this node's `decision` request without an epoch (the current decision) with
   * no messages: it holds no epoch. Unlike silence, this tells a founder that no decision is there.
   * `peer`: who answered (the node's peer id, the simulator's node name), as the founding gate
   * counts distinct peers.
   */
  | { type: "no-decision"; now: number; peer: string }
  /**
   * The proofs this node convicted agents on before it restarted (the node's conviction record, each
   * re-checked with `proofProblem` when read back), handed over before the replay: each convicts its
   * agent again, which the stored messages alone do not (docs/protocol.md §10).
   */
  | { type: "convicted"; now: number; proofs: readonly EquivocationProof[] }
  /**
   * A gossiped commit reference of `agent` for `epoch` names another body than the one this node
   * settled on (docs/protocol.md §8). Unsigned until expanded, it proves nothing; the machine asks
   * for the whole commit, which does (§5.1): while it lacks it, at most 3 times per member and
   * epoch, roundMs/2 apart (certify.ts).
   */
  | { type: "other-body"; now: number; epoch: number; agent: AgentId }
  /**
   * One of this node's `messages` sync requests ended, to one peer: `answered` in time, or not (it
   * timed out, was refused or failed). While they fail, the first ask for a round's missing
   * demands waits longer (market.ts). `timeoutMs` is how long the request was waited for (the sync
   * client's timer, sync-request-timer.ts): a member stuck in a round is given that long to catch
   * up before it counts as silent (heartbeat.ts `stuckHeardMs`).
   */
  | { type: "sync-ended"; now: number; answered: boolean; timeoutMs: number }
  /** Replay of stored messages is over: act again (publish what the current round still needs). */
  | { type: "resume"; now: number }
  /** A graceful stop: announce the leave, then wait for the `left` action before going. */
  | { type: "leave"; now: number }
  /** The agent's bid changed (`walras agent update`): it takes effect at the next slot. */
  | { type: "profile"; now: number; profile: AgentProfile }
  /** Propose amended terms (check them first with `amendmentProblem`). */
  | { type: "amend"; now: number; terms: Contract }
  /** Approve a known amendment. */
  | { type: "approve"; now: number; amendment: string };

/**
 * The most agents a sync `messages` request names (docs/protocol.md §3). A want with more missing
 * asks for everything of its epoch, round and kinds: the request stays under 4 KiB.
 */
export const MAX_SYNC_AGENTS = 32;

/**
 * The most messages one `messages` want brings from one peer: a node follows at most 16 pages of
 * 256 (docs/protocol.md §3), oldest first, and the simulator cuts its answers the same way. What a
 * want matches beyond it never arrives, so a want must name what it needs (a round, its agents).
 */
export const MAX_SYNC_WANT_MESSAGES = 16 * 256;

/** Messages a node should fetch from peers over the sync protocol. */
export type SyncWant =
  /**
   * Stored messages of one epoch (and round), of these kinds. `from`: the agents whose messages are
   * missing: ask their nodes first, since each surely holds its own, and (at most MAX_SYNC_AGENTS
   * of them) only for theirs, so that an answer carries what is missing and not the whole round.
   */
  | {
      readonly type: "messages";
      readonly epoch: number;
      readonly round?: number;
      readonly kinds: readonly MessageKind[];
      readonly from?: readonly AgentId[];
      /**
       * One of `from` whose node is asked before the others (they go in random order): the
       * divergence probe's disagreeing member, whose node alone surely holds the other version,
       * or the proposer of a decision's missing proposal. The request does not carry it.
       */
      readonly lead?: AgentId;
    }
  /**
   * The proposals and accepts that decided epochs `epoch`, `epoch`+1, … (at most
   * DECISIONS_PER_SYNC of them, in epoch order), so a node far behind catches up in one exchange;
   * `null`: just the responder's current epoch. `from`: agents whose nodes surely hold it (those
   * whose messages suspended a founder's founding): ask them first. The request does not carry it.
   */
  | { readonly type: "decision"; readonly epoch: number | null; readonly from?: readonly AgentId[] };

/**
 * The agents a want's request names, so that its answer holds only theirs: `from`, when it names
 * 1 to MAX_SYNC_AGENTS of them (the node's request and the simulator's answer both follow this).
 */
export function syncAgents(want: SyncWant): readonly AgentId[] | undefined {
  if (want.type !== "messages" || want.from === undefined) return undefined;
  return want.from.length > 0 && want.from.length <= MAX_SYNC_AGENTS ? want.from : undefined;
}

export type MachineAction =
  /** Sign-free: the message is already signed. Store it (before anything else), then gossip it. */
  | { type: "publish"; message: WireMessage }
  /**
   * Gossip another agent's message as it is, without storing it: one version of an equivocation
   * proof (docs/protocol.md §5.1), so that the nodes that hold the other version reject this one
   * and hold the proof too. Never an own message (those are `publish`ed).
   */
  | { type: "relay"; message: WireMessage }
  | { type: "sync"; want: SyncWant }
  | {
      type: "epoch-started";
      epoch: number;
      members: readonly AgentId[];
      base: EpochBase | null;
      plan: EpochPlan;
      member: boolean;
    }
  | {
      type: "round-closed";
      epoch: number;
      round: number;
      prices: readonly number[];
      nextPrices: readonly number[];
      residual: number;
      converged: boolean;
    }
  | { type: "certificate"; certificate: Certificate; complete: boolean }
  /** A message that was accepted earlier turned out invalid once its round came (counted, dropped). */
  | { type: "dropped"; reason: RejectReason; message: WireMessage }
  | { type: "equivocation"; evidence: Equivocation }
  /**
   * This node convicted an agent on `proof` (two demands of one round at the same prices, §5.1):
   * keep it across restarts, and hand it back in a `convicted` event before the replay.
   */
  | { type: "convicted"; proof: EquivocationProof }
  /**
   * An epoch began under amended terms: the amendment and the signatures for it this node saw,
   * for the ledger.
   */
  | {
      type: "terms-changed";
      epoch: number;
      terms: Contract;
      /** Maybe short of a quorum (acceptors take a plan without its votes); null when none were seen. */
      evidence: readonly WireMessage[] | null;
      /** The certificate the amendment follows in the ledger (this epoch's plan's `ledger`). */
      ledger: string | null;
    }
  /** After a `leave` event: the others no longer count on this node; it may stop now. */
  | { type: "left"; epoch: number | null }
  | { type: "log"; level: "debug" | "info" | "warn"; msg: string; fields?: Record<string, unknown> };

/** Two different signed messages from one agent for one slot: proof of a faulty or hostile member. */
export interface Equivocation {
  readonly agent: AgentId;
  readonly slot: string;
  readonly first: WireMessage;
  readonly second: WireMessage;
}

/**
 * Why a message was rejected. Rejections lower the forwarding peer's gossip score, except
 * `price-mismatch` and `equivocation`, which an honest forwarder can send (the node's inbound
 * pipeline tells gossipsub to ignore those, docs/protocol.md §5).
 */
export type RejectReason =
  | "oversize"
  | "malformed"
  | "schema"
  | "wrong-topic"
  | "wrong-contract"
  | "bad-signature"
  | "not-allowed"
  | "not-member"
  | "not-proposer"
  | "bad-plan"
  /** A plan dropping members for equivocation without a valid proof against each (plan-proofs.ts). */
  | "bad-proof"
  | "bad-amendment"
  | "resource-count"
  | "price-mismatch"
  | "equivocation"
  | "rate-limit";

/**
 * Why a message was ignored: harmless (late, repeated, or for a far-off round), no penalty.
 * `unasked`: a decision message heard by gossip before this node has an epoch (§9.3).
 */
export type IgnoreReason = "duplicate" | "stale" | "future" | "own" | "unasked";

export type Verdict =
  /**
   * `onTrust`: taken without its signer's membership judged, since this node holds no epoch (none
   * yet) or not the later one the message belongs to (held until it starts). The node keeps it but
   * cannot vouch for it to a peer that can judge it: its gossip does not forward it (§5).
   * `held`: not applied now but held until its epoch comes (validate.ts, `heldForLater`), in a
   * bounded queue that forgets what it pushes out so that a resend is taken again: the node must
   * not set a resend aside as already seen. A current member's message for a later epoch is held
   * but not on trust. The epoch only moves on, so one not held when judged is not when applied.
   */
  | { verdict: "accept"; onTrust?: true; held?: true }
  | { verdict: "reject"; reason: RejectReason; detail: string; evidence?: Equivocation }
  | { verdict: "ignore"; reason: IgnoreReason; detail: string };
