import {
  type AgentId,
  type AgentMachine,
  asAgentId,
  type CommitReference,
  decodeGossip,
  decodeMessage,
  encodeMessage,
  expandCommitReference,
  forwards,
  heldCommitReferences,
  isSharedRejection,
  type RejectReason,
  topicOf,
  type WireMessage,
} from "@walras/protocol";
import type { Logger } from "pino";
import type { NodeMetrics } from "../metrics/node-metrics.ts";
import type { Verdict } from "../network/gossip.ts";
import type { GossipKind } from "../network/gossip-topics.ts";
import type { PeerRateLimiter } from "./peer-rate-limiter.ts";
import { createRecentDigests } from "./recent-digests.ts";
import { createSignerBlame } from "./signer-blame.ts";
import { askedFor, type SyncAsked } from "./sync-asked.ts";

/**
 * The one way in for messages from the network, gossip or sync: decode once, judge once (the
 * machine's `check`, which verifies the signature), count every verdict, and hand what is
 * accepted to `accept`. Gossipsub calls the validator and then delivers the same bytes, so the
 * decoded message is kept by its bytes between the two. Commits arrive by gossip as references
 * (docs/protocol.md §8): one is rebuilt on the body this node settled, or held until it settles
 * (`releaseHeld`).
 */
export interface InboundPipeline {
  /** Gossipsub's topic validator: its verdict decides whether the message spreads. */
  validate(kind: GossipKind, bytes: Uint8Array, from: string): Verdict;
  /** Gossipsub's delivery of bytes that `validate` accepted. */
  deliver(kind: GossipKind, bytes: Uint8Array): void;
  /**
   * A message a peer sent in answer to a sync request for what `asked` says. Returns the verdict
   * for the responder: "reject" only for what no honest responder serves whatever the asker's
   * state (blamesResponder); any other rejection is the asker's and returns "ignore".
   */
  synced(bytes: Uint8Array, from: string, asked: SyncAsked): Verdict;
  /**
   * Judges the held commit references whose epoch the machine has settled since: rebuilt on its
   * body, or named to `otherBody`. Any machine event may settle an epoch, not only an accepted
   * message (a tick that starts an epoch replays its buffered demands, which may close a round),
   * so the node calls this after every event it hands the machine (the simulator, after each tick
   * and delivery).
   */
  releaseHeld(): void;
}

export interface InboundPipelineInit {
  readonly machine: AgentMachine;
  readonly metrics: NodeMetrics;
  readonly log: Logger;
  /** Gossip messages one forwarding peer may send per second. */
  readonly limiter: PeerRateLimiter;
  /** Fault injection: the fraction of gossip dropped before validation. */
  readonly inboundLoss?: number;
  /** An accepted message, with the bytes it arrived as (which are its canonical encoding). */
  accept(message: WireMessage, bytes: Uint8Array): void;
  /** `check` found equivocation: the machine holds evidence to hand out on its next event. */
  equivocation(): void;
  /**
   * A gossiped commit reference named another body than this node settled `epoch` on: the machine
   * asks for `agent`'s commit whole (docs/protocol.md §8).
   */
  otherBody(epoch: number, agent: AgentId): void;
  /** `check` moved the machine's next deadline (a node with no epoch heard of one: it asks now). */
  wake(): void;
  now(): number;
}

/**
 * Rejects that say nothing against the peer that forwarded the message, so gossipsub is told to
 * ignore them (a reject lowers the forwarder's score; both stop the message there). A signed
 * demand at other prices than this node's, or the second of a member's two signed messages for a
 * slot, is what an honest peer on the other side of a split holds as valid and forwards
 * (docs/protocol.md §5.1). What only a misbehaving forwarder sends — bytes that do not decode, a
 * wrong topic, a bad signature (a mismatching demand's included: validate.ts checks it) — stays a
 * reject, and so do these two when the forwarder is the signer sending more than honesty does
 * (signer-blame.ts).
 */
const FORWARDER_BLAMELESS: ReadonlySet<RejectReason> = new Set<RejectReason>([
  "price-mismatch",
  "equivocation",
]);

/**
 * Whether a rejection for `reason` blames the peer whose sync answer held the message: the message
 * itself is broken, whoever judges it (the checks every node shares, isSharedRejection). An honest
 * responder serves what it accepted, and what it accepted may still be rejected by an asker in
 * another state: a node with no epoch accepts and stores messages of any epoch (held until its
 * first epoch is known), which an asker with an epoch may reject as `not-member` or
 * `not-proposer`; blaming those would let one key penalise honest nodes at every catch-up.
 * (Undecodable bytes are blamed before any of these is judged.)
 */
export function blamesResponder(reason: RejectReason): boolean {
  return isSharedRejection(reason);
}

/**
 * What the pipeline makes of a message: a verdict for the peer that sent it, or `keep`: accepted
 * on trust (the machine could not judge its signer's membership: no epoch here, or a later one
 * than this node's). The node takes it for itself but tells gossipsub to ignore it, so it does not
 * forward what it cannot vouch for: a member judging it `not-member` would blame this node, which
 * it cannot tell from a peer relaying throwaway keys' messages (docs/security.md §3). `hold`:
 * vouched for (a current member's message for a later epoch) and so accepted for gossip too, but
 * held by the machine, which may push it out of its bounded queue and must then take it again.
 */
type Judgement = Verdict | "keep" | "hold";

export function createInboundPipeline(init: InboundPipelineInit): InboundPipeline {
  const { machine, metrics, log } = init;
  const decoded = new WeakMap<Uint8Array, { message: WireMessage; judgement: "accept" | "hold" }>();
  const recent = createRecentDigests();
  const signerBlame = createSignerBlame();
  const held = heldCommitReferences<{ from: string }>(machine.terms().terms.timeouts.roundMs);
  let releasing = false;

  const count = (reason: string) => metrics.messagesRejected.inc({ reason });

  const otherBody = (reference: CommitReference, from: string) => {
    count("commit-ref-other-body");
    log.debug({ peer: from, agent: reference.agent, epoch: reference.epoch }, "commit names another body");
    init.otherBody(reference.epoch, reference.agent);
  };

  /** The commit a reference names, or the verdict when this node cannot rebuild it now. */
  const expand = (reference: CommitReference, from: string): WireMessage | Verdict => {
    const body = machine.committedBody(reference.epoch);
    if (!body) {
      held.hold(reference, { from }, init.now());
      count("commit-ref-held");
      return "ignore";
    }
    const commit = expandCommitReference(reference, body);
    if (commit) return commit;
    // Another body than this node settled on: only sync can show it (whole).
    otherBody(reference, from);
    return "ignore";
  };

  const judge = (bytes: Uint8Array, from: string, topic: GossipKind | null): WireMessage | Verdict => {
    // Sync answers are stored messages, whole; only gossip carries references.
    const result = topic === "commit" ? decodeGossip(bytes) : decodeMessage(bytes);
    if (!result.ok) {
      count(result.reason);
      log.warn({ peer: from, reason: result.reason, detail: result.detail }, "rejected message");
      return "reject";
    }
    if ("reference" in result) return expand(result.reference, from);
    const message = result.message;
    if (topic && topicOf(message.kind) !== topic) {
      count("wrong-topic");
      log.warn({ peer: from, kind: message.kind, topic }, "rejected message: wrong topic");
      return "reject";
    }
    return message;
  };

  /**
   * `gossip`: heard by gossip, not in a sync answer to our request (a first epoch is taken only so).
   * `rejected` hears the machine's reason for a rejection.
   */
  const check = (
    message: WireMessage,
    from: string,
    gossip: boolean,
    rejected?: (reason: RejectReason) => void,
  ): Judgement => {
    // The peer it came from counts for a decision a bootstrap node sent itself (bootstrap-peers.ts);
    // "gossip" stands for a peer this path no longer knows.
    const peer = gossip && from !== "gossip" ? { from: asAgentId(from) } : {};
    const v = machine.check(message, { gossip, ...peer });
    // What gossipsub forwards is the protocol's rule (forward-rule.ts), which the simulator runs too.
    if (v.verdict === "accept") return !forwards(v) ? "keep" : v.held ? "hold" : "accept";
    if (v.verdict === "reject") rejected?.(v.reason);
    count(v.reason);
    if (v.verdict === "ignore" && v.reason === "unasked") init.wake();
    if (v.verdict === "reject")
      log.warn({ peer: from, agent: message.agent, reason: v.reason, detail: v.detail }, "rejected message");
    else log.trace({ peer: from, reason: v.reason }, "ignored message");
    if (v.verdict === "reject" && v.reason === "equivocation") init.equivocation();
    if (v.verdict !== "reject" || !FORWARDER_BLAMELESS.has(v.reason)) return v.verdict;
    return signerBlame.blames(message, v, from) ? "reject" : "ignore";
  };

  const accept = (message: WireMessage, bytes: Uint8Array, judgement: Judgement) => {
    // Only what the machine vouched for and applied: one it took on trust, or holds for a later
    // epoch, it may drop again (a bounded table or queue, docs/security.md §2) and then must be
    // able to take again when a peer resends it.
    if (judgement === "accept") recent.add(bytes);
    // The machine handles it here, and the node then releases the held references (releaseHeld).
    init.accept(message, bytes);
  };

  const releaseHeld = () => {
    // Releasing hands the machine events (the commits let out, other-body), after each of which
    // the node calls this again: those calls return here, inside the release under way.
    if (held.size === 0 || releasing) return;
    releasing = true;
    try {
      const released = held.release(
        (epoch) => machine.committedBody(epoch),
        init.now(),
        (reference, item) => otherBody(reference, item.from),
      );
      for (const { commit, item } of released) {
        const judgement = check(commit, item.from, true);
        if (taken(judgement)) accept(commit, encodeMessage(commit), judgement);
      }
    } finally {
      releasing = false;
    }
  };

  return {
    validate: (kind, bytes, from) => {
      if (init.inboundLoss && Math.random() < init.inboundLoss) return "ignore";
      if (!init.limiter.allow(from, init.now())) {
        count("rate-limit");
        if (init.limiter.shouldLog(from)) log.warn({ peer: from }, "peer over its message rate; rejecting");
        return "reject";
      }
      const message = judge(bytes, from, kind);
      if (typeof message === "string") return message;
      const verdict = check(message, from, true);
      if (verdict === "accept" || verdict === "hold") decoded.set(bytes, { message, judgement: verdict });
      if (verdict === "hold") return "accept";
      // Gossipsub delivers only what it forwards: a message kept on trust is taken here.
      if (verdict !== "keep") return verdict;
      metrics.messagesKeptUnforwarded.inc({ kind: message.kind });
      accept(message, encodeMessage(message), verdict);
      return "ignore";
    },
    deliver: (kind, bytes) => {
      const validated = decoded.get(bytes);
      decoded.delete(bytes);
      // The message's own encoding: for a rebuilt commit, the whole commit rather than its
      // reference; for any other, the bytes it was decoded from (a lookup, not an encoding).
      if (validated) accept(validated.message, encodeMessage(validated.message), validated.judgement);
      else {
        // Not the bytes the validator saw (gossipsub hands both the same array today): judge anew.
        const again = judge(bytes, "gossip", kind);
        if (typeof again === "string") return;
        const judgement = check(again, "gossip", true);
        if (taken(judgement)) accept(again, encodeMessage(again), judgement);
      }
    },
    synced: (bytes, from, asked) => {
      if (recent.has(bytes)) {
        count("duplicate");
        return "ignore";
      }
      const message = judge(bytes, from, null);
      if (typeof message === "string") return message;
      // A peer may answer with more than was asked; what was not asked for is not judged.
      if (!askedFor(message, asked)) {
        count("unrequested");
        return "ignore";
      }
      let blamed = false;
      const verdict = check(message, from, false, (reason) => {
        blamed = blamesResponder(reason);
      });
      if (taken(verdict)) accept(message, bytes, verdict);
      if (verdict === "keep" || verdict === "hold") return "accept";
      return verdict === "reject" && !blamed ? "ignore" : verdict;
    },
    releaseHeld,
  };
}

/** Accepted, whether this node can vouch for it or only keeps it, applied now or held. */
function taken(judgement: Judgement): boolean {
  return judgement === "accept" || judgement === "keep" || judgement === "hold";
}
