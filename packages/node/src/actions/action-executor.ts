import {
  type Certificate,
  certificateDigest,
  contractId,
  type EquivocationProof,
  encodeMessage,
  type MachineAction,
  type MessageKind,
  messageDigest,
  type SyncWant,
  type WireMessage,
} from "@walras/protocol";
import type { Logger } from "pino";
import type { LedgerBook } from "../ledger/ledger-book.ts";
import type { LedgerCatchUp } from "../ledger/ledger-catch-up.ts";
import type { NodeMetrics } from "../metrics/node-metrics.ts";
import type { MessageWriter } from "../store/message-writer.ts";
import { type StoredMessage, StoreWriteError } from "../store/store.ts";
import { createUnstoredOwnMessages } from "./unstored-own-messages.ts";

/**
 * Carries out what the machine decides, the one place that does: store and publish its signed
 * messages, start catch-up, keep certificates and amendments in the ledger, count and log.
 * Listeners (the dashboard's history among them) see every action first.
 */
export interface ActionExecutor {
  /**
   * Carries out `actions` in order. An own message the store refuses (a full disk) is held and
   * tried again at the next call, or at `retryAt()` (unstored-own-messages.ts); other errors
   * throw. Resolves once every message they published has been handed to gossip (never rejects).
   */
  perform(actions: readonly MachineAction[]): Promise<void>;
  /**
   * When a call is due, with no actions if need be, to retry the held own messages or to go on
   * with a ledger catch-up that stopped at its page limit (ms, `now`'s clock); Infinity while
   * neither waits.
   */
  retryAt(): number;
  /** The last few epochs this node held a certificate of, in the order it first held them. */
  certified(): readonly CertifiedEpoch[];
  /**
   * A certificate ledger catch-up brought (already in the ledger): held as one the machine
   * assembled is. A node that left an epoch's rounds for the next epoch (a promotion decided
   * while it still waited for demands) gets that epoch's certificate this way.
   */
  caughtUp(certificate: Certificate): void;
}

/**
 * An epoch this node held a certificate of, and since when. /status lists the last few, so that
 * whoever polls it sees an epoch's certificate even at a node that has since moved on to the next
 * epoch (a promotion epoch follows the founding one at once; a sweep of 50 busy processes' status
 * takes seconds).
 */
export interface CertifiedEpoch {
  readonly epoch: number;
  readonly round: number;
  /** The commit body's digest: the same at every node for one epoch's certificate. */
  readonly digest: string;
  readonly members: number;
  /**
   * When this node began the epoch's rounds (ms since 1970, its own clock); null when it did not
   * run them (it assembled the certificate of an epoch it had left, or caught up to).
   */
  readonly startedAt: number | null;
  /** When this node first held a certificate of the epoch (ms since 1970, its own clock). */
  readonly heldSince: number;
}

const CERTIFIED_KEPT = 16;

export interface ActionExecutorInit {
  readonly writer: MessageWriter;
  readonly ledger: LedgerBook;
  readonly metrics: NodeMetrics;
  readonly log: Logger;
  readonly listeners: ReadonlySet<(action: MachineAction) => void>;
  /** Gossips an own message's bytes; must not throw (a failed publish is left to sync). */
  publish(message: WireMessage, bytes: Uint8Array): Promise<void>;
  /** Fetches what the machine is missing from peers. */
  catchUp(want: SyncWant): void;
  /** Fetches the ledger entries this node missed (a certificate or amendment it never saw). */
  catchUpLedger(): void;
  /** A ledger catch-up that stopped with more to fetch: gone on with at a call at or past its time. */
  readonly ledgerCatchUp?: Pick<LedgerCatchUp, "continueAt" | "continueIfDue">;
  /** Keeps a proof the machine convicted an agent on across restarts (store/conviction-record.ts). */
  keepConviction(proof: EquivocationProof): void;
  /** The machine finished a graceful leave. */
  left(): void;
  now(): number;
}

/** The row a message is stored as. */
export function storedMessage(message: WireMessage, bytes: Uint8Array, receivedAt: number): StoredMessage {
  return {
    digest: messageDigest(message),
    kind: message.kind,
    epoch: message.epoch,
    ...("round" in message ? { round: message.round } : {}),
    signer: message.agent,
    bytes,
    receivedAt,
  };
}

/**
 * Own messages whose content a restart could not re-derive, fsynced before they are published:
 * the promises (views) and accepts of an epoch decision — Paxos is safe only if an acceptor never
 * forgets them; one that did could accept a second value and let two be decided — and proposals
 * (a proposer must not propose two plans in one view); amendments and approvals, whose terms and
 * timing are the operator's (after a power cut the operator may propose other terms for the same
 * slot). The rest goes with the next batched write; one lost to a power cut after it was
 * published is signed again bit for bit (Ed25519 signatures are deterministic): a join or a leave
 * is a function of its slot (epoch, seq) alone (a lost join's seq reused after the restart is
 * ignored by peers as stale until the seq passes it; joins were most of the fsyncs of a 25-node
 * run), and demands and commits of the agreed history — see `fsyncsBeforePublish`.
 */
export const DURABLE_KINDS: ReadonlySet<MessageKind> = new Set([
  "propose",
  "accept",
  "view",
  "amend",
  "approve",
]);

/**
 * Whether an own message is fsynced before it is published: the DURABLE_KINDS, and the first
 * demand of each epoch (round 0). A demand is the agent's best response at the round's prices
 * to the bid its epoch started with, from its newest demand's x (the proximal anchor); a
 * restarted node gets all of these back from its store — the replayed epoch's bid from the bid
 * record (store/bid-record.ts), the anchor from its own stored demands — and the prices from the
 * peers' demands, re-fetched by sync. What the store cannot tell is what happened after its end:
 * a node whose last demands were lost may adopt the next epoch before redoing those rounds, and
 * sign that epoch's first demand from an older anchor (the bid record is fsynced when it
 * changes). Fsyncing round 0 makes every epoch the node bid in durable before anyone sees a demand
 * of it: one fsync per epoch (as each voter's accept already costs), not one per round
 * (docs/protocol.md §10).
 */
export function fsyncsBeforePublish(message: WireMessage): boolean {
  return DURABLE_KINDS.has(message.kind) || (message.kind === "demand" && message.round === 0);
}

export function createActionExecutor(init: ActionExecutorInit): ActionExecutor {
  const { metrics, log } = init;
  let epochStartedAt = init.now();
  let startedEpoch: number | null = null;
  /**
   * Per epoch, when this node first held a certificate of it (its own clock): the last few. A
   * certificate grows by a signature at a time; its first appearance is the agreement.
   */
  const certified = new Map<number, CertifiedEpoch>();
  const unstored = createUnstoredOwnMessages(log, init.now, () => init.writer.ownTriedFrom);

  /** The first time this node holds a certificate of its epoch, however it came. */
  const held = (certificate: Certificate): void => {
    const { epoch } = certificate.commit;
    if (certified.has(epoch)) return;
    certified.set(epoch, {
      epoch,
      round: certificate.commit.round,
      digest: certificateDigest(certificate),
      members: certificate.commit.members.length,
      startedAt: epoch === startedEpoch ? epochStartedAt : null,
      heldSince: init.now(),
    });
    if (certified.size > CERTIFIED_KEPT) certified.delete(certified.keys().next().value as number);
    if (epoch === startedEpoch) metrics.timeToAgreementSeconds.observe((init.now() - epochStartedAt) / 1000);
  };

  const publish = (message: WireMessage): Promise<void> => {
    const bytes = encodeMessage(message);
    // Write-ahead: stored before anyone can see it, so a restart replays it rather than signing
    // a different one for its slot.
    init.writer.own(storedMessage(message, bytes, init.now()), fsyncsBeforePublish(message));
    metrics.messagesPublished.inc({ kind: message.kind });
    metrics.messageBytes.inc({ direction: "out" }, bytes.length);
    return init.publish(message, bytes);
  };

  const perform = (action: MachineAction): Promise<void> | null => {
    for (const listener of init.listeners) listener(action);
    switch (action.type) {
      case "publish":
        return unstored.send(action.message, publish);
      case "relay":
        // One version of an equivocation proof (protocol §5.1), another agent's: gossiped as it
        // is and not stored (the store keeps one message per slot, the one this node accepted).
        return init.publish(action.message, encodeMessage(action.message));
      case "sync":
        init.catchUp(action.want);
        return null;
      case "epoch-started":
        epochStartedAt = init.now();
        startedEpoch = action.epoch;
        metrics.epoch.set(action.epoch);
        metrics.round.set(0);
        // Why this slot opened (a bid, the period, an amendment, a member): for `walras devnet`.
        log.debug(
          { epoch: action.epoch, members: action.members.length, cause: action.plan.cause },
          "epoch plan adopted",
        );
        // The plan links to a certificate this node never saw, or to one whose predecessors it
        // lacks (assembled from gossip after a restart): it missed part of the ledger.
        if (action.plan.ledger !== null && !init.ledger.holdsChainTo(action.plan.ledger))
          init.catchUpLedger();
        return null;
      case "terms-changed": {
        // What the machine saw of the votes is kept only if it is a quorum of the members of the
        // certificate the amendment follows; otherwise a peer's ledger has it (catch-up, and again
        // when the first certificate under these terms comes and cannot be placed without it).
        const signatures = (action.evidence ?? []).filter((m) => m.kind === "amend" || m.kind === "approve");
        const id = contractId(action.terms);
        if (!init.ledger.addAmendment(id, { terms: action.terms, signatures }, action.ledger))
          init.catchUpLedger();
        return null;
      }
      case "left":
        init.left();
        return null;
      case "round-closed":
        metrics.rounds.inc();
        metrics.round.set(action.round + 1);
        metrics.residual.set(action.residual);
        log.debug(
          { epoch: action.epoch, round: action.round, prices: action.prices, residual: action.residual },
          "round closed",
        );
        return null;
      case "certificate": {
        const { certificate } = action;
        if (!init.ledger.holdsChainTo(init.ledger.addCertificate(certificate))) init.catchUpLedger();
        held(certificate);
        log.info(
          {
            epoch: certificate.commit.epoch,
            round: certificate.commit.round,
            prices: certificate.commit.prices,
            members: certificate.commit.members.length,
            signers: certificate.signatures.length,
            complete: action.complete,
          },
          "certificate",
        );
        return null;
      }
      case "dropped":
        metrics.messagesRejected.inc({ reason: action.reason });
        log.warn(
          { reason: action.reason, agent: action.message.agent, kind: action.message.kind },
          "message dropped",
        );
        return null;
      case "equivocation": {
        const { evidence } = action;
        log.warn(
          { agent: evidence.agent, slot: evidence.slot, first: evidence.first, second: evidence.second },
          "equivocation: two signed messages for one slot",
        );
        return null;
      }
      case "convicted":
        init.keepConviction(action.proof);
        return null;
      case "log":
        log[action.level](action.fields ?? {}, action.msg);
        return null;
    }
  };

  return {
    certified: () => [...certified.values()],
    caughtUp: held,
    retryAt: () => Math.min(unstored.retryAt, init.ledgerCatchUp?.continueAt() ?? Number.POSITIVE_INFINITY),
    // Not async: an error other than a store's refusal (a bug) must throw to the caller now, not
    // become a lost rejection.
    perform: (actions) => {
      const published = unstored.retry(publish);
      init.ledgerCatchUp?.continueIfDue(init.now());
      for (const action of actions) {
        try {
          const done = perform(action);
          if (done) published.push(done);
        } catch (err) {
          // A certificate or amendment the ledger could not store (it holds nothing unstored): a
          // later signature brings the certificate again, ledger catch-up fetches what is missing.
          // The actions after it still run.
          if (!(err instanceof StoreWriteError)) throw err;
          unstored.failed(err, action.type);
        }
      }
      return Promise.all(published).then(() => undefined);
    },
  };
}
