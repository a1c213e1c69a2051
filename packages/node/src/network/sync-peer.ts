import type { Libp2p } from "@libp2p/interface";
import { peerIdFromString } from "@libp2p/peer-id";
import {
  type Contract,
  createSyncQueue,
  DECISIONS_PER_SYNC,
  decisionsFrom,
  encodeMessage,
  kindsOf,
  MAX_SYNC_WANT_MESSAGES,
  type MessageKind,
  type SyncPurpose,
  type SyncStart,
  type SyncTimedRequest,
  type SyncWant,
  shuffled,
  syncAgents,
  syncPurpose,
  type Topic,
} from "@walras/protocol";
import type { Logger } from "pino";
import type { InboundPipeline } from "../inbound/inbound-pipeline.ts";
import type { SyncAsked } from "../inbound/sync-asked.ts";
import type { NodeMetrics } from "../metrics/node-metrics.ts";
import type { MessageWriter } from "../store/message-writer.ts";
import { matchesQuery, type Store, type StoredMessage } from "../store/store.ts";
import { connectedPeerIds } from "./connected-peers.ts";
import { type CurrentDecision, currentDecisionAnswer } from "./current-decision-answer.ts";
import { GOSSIP_KINDS } from "./gossip-topics.ts";
import { answerByteLimit, answerOverPage } from "./sync-answer-check.ts";
import { createSyncBans, type SyncBans } from "./sync-ban.ts";
import { createSyncBudget, type SyncBudget } from "./sync-budget.ts";
import {
  type DecisionRequest,
  type LedgerResponse,
  MAX_PAGE_BYTES,
  MAX_SYNC_PAGE,
  type MessagesRequest,
  type SyncKind,
  type SyncRequest,
  type SyncResponse,
} from "./sync-messages.ts";
import { handleSync, requestSync, SyncError } from "./sync-protocol.ts";

/**
 * Both ends of catch-up over `/walras/sync/2.1.0`. As a client it fetches what the machine says
 * it is missing (messages of exact kinds, page by page, from their signers' nodes first; epoch
 * decisions; the ledger), with identical wants in flight coalesced, a bound on how many run at
 * once, and only peers asked that have none of ours in flight and did not just time out or
 * refuse (protocol machine/sync-queue.ts, which the simulator runs too), so a slow round does not
 * become a request storm. As a server it answers
 * within a per-peer budget: a peer over it gets an error and a lower gossipsub score; once
 * graylisted, or refused too often (sync-ban.ts, gossipsub or not), its requests are held unread
 * and reset.
 */
export interface SyncPeer {
  /** Starts serving requests. */
  start(): Promise<void>;
  /** Fetches the messages `want` names from connected peers; answers go through the inbound pipeline. */
  catchUp(want: SyncWant): void;
  /** One page of a random peer's ledger after the certificate `after` (unchecked), with `peer`. */
  fetchLedger(after: string | undefined): Promise<unknown>;
  /** Stops fetching (answers still arriving are dropped). */
  stop(): void;
}

export interface SyncPeerInit {
  readonly libp2p: Libp2p;
  readonly contract: Contract;
  readonly contractId: string;
  readonly store: Store;
  /**
   * Flushed before an answer, so that the store holds everything received. While its writes fail
   * (a full disk) its pending messages are served from memory after the stored ones instead:
   * flushing then failed every answer.
   */
  readonly writer: MessageWriter;
  readonly inbound: InboundPipeline;
  readonly metrics: NodeMetrics;
  readonly log: Logger;
  status(): Record<string, unknown>;
  /** The current epoch's decision and the exclusion plans before it (a `decision` request without an epoch). */
  currentDecision(): CurrentDecision;
  /**
   * `peer` answered a request for the current decision with no messages: it holds no epoch (the
   * machine's `no-decision`; a founder suspended by a stranger's message counts these, per peer).
   */
  noDecision?(peer: string): void;
  /**
   * One of this node's `messages` requests to a peer ended, answered or not, after waiting at
   * most `timeoutMs` for it (the machine's `sync-ended`).
   */
  syncEnded?(answered: boolean, timeoutMs: number): void;
  /** The answer to a `ledger` request: entries after the certificate `after`. */
  ledgerPage(after: string | undefined): LedgerResponse;
  /** Lowers a peer's (gossipsub) score. */
  penalize(peer: string): void;
  /** True when a peer's score says nothing it sends is wanted any more. */
  graylisted(peer: string): boolean;
  readonly budget?: SyncBudget;
  /** Peers whose requests are held unread for a while after too many refusals over budget. */
  readonly bans?: SyncBans;
  /**
   * How long a graylisted or banned peer's stream is held unread before it is reset (default
   * handleSync's, 2 s); tests shorten it.
   */
  readonly refusedHoldMs?: number;
  /**
   * Digests of stored rows that do not decode under this version (written by another, or
   * damaged), or that every node rejects (a bad signature, …: replay.ts): never served, since an
   * asker would reject them and blame this node for them.
   */
  unservable?(): ReadonlySet<string>;
  now(): number;
}

/**
 * The requests the sync client sends, each waited for as long as the timer says for its kind
 * (machine/sync-request-timer.ts: the contract's timeout, longer while answers come late).
 */
type CatchUpRequest = Extract<SyncRequest, { type: SyncTimedRequest }>;

/** Pages one catch-up follows from one peer (the simulator cuts its answers at the same count). */
const MAX_PAGES = MAX_SYNC_WANT_MESSAGES / MAX_SYNC_PAGE;

/** The kinds a decision answer carries: proposals, accepts and the promises (views) of a decision. */
const DECISION_KINDS: readonly MessageKind[] = ["propose", "accept", "view"];

/** A request's kinds (topic names or message kinds) as the message kinds the store holds. */
function messageKinds(kinds: readonly SyncKind[]): MessageKind[] {
  const topics: readonly string[] = GOSSIP_KINDS;
  return [...new Set(kinds.flatMap((k) => (topics.includes(k) ? kindsOf(k as Topic) : [k as MessageKind])))];
}

export function createSyncPeer(init: SyncPeerInit): SyncPeer {
  const { libp2p, metrics, log, store } = init;
  const budget = init.budget ?? createSyncBudget();
  const bans = init.bans ?? createSyncBans();
  const refusalLoggedAt = new Map<string, number>();
  const queue = createSyncQueue({
    random: Math.random,
    timeouts: init.contract.timeouts,
    held: (outcome, want) => metrics.syncRequestsSent.inc({ outcome, purpose: syncPurpose(want) }),
  });
  const { load } = queue;
  let stopped = false;

  // ---- client ----------------------------------------------------------------------------

  const shuffledPeers = (): string[] => shuffled(Math.random, connectedPeerIds(libp2p));

  /**
   * An honest server never sends more than the page it was asked for: one that does is flooding,
   * so its answer is dropped unapplied and, unlike an answer, does not end its cooling off.
   */
  const dropOversized = (peer: string, request: SyncRequest, purpose: SyncPurpose, problem: string): null => {
    load.finished(peer, "failed", init.now());
    metrics.syncRequestsSent.inc({ outcome: "oversized", purpose });
    init.penalize(peer);
    log.warn({ peer, type: request.type, problem }, "sync answer over the page asked for; dropped");
    return null;
  };

  /**
   * One request to `peer`, waited for `timeoutMs` (the timer's for its kind unless the caller read
   * it first). Answers are timed on the monotonic clock: a step of the wall clock would be a
   * false answer time for the timer. The time runs from dialling to the answer parsed, a little
   * more than the timeout covers (closing the stream, parsing).
   */
  const ask = async <R extends CatchUpRequest>(
    peer: string,
    request: R,
    purpose: SyncPurpose,
    timeoutMs = queue.requestTimeoutMs(request.type),
  ) => {
    load.started(peer);
    const sentAt = performance.now();
    metrics.syncRequestTimeoutSeconds.set({ type: request.type }, timeoutMs / 1000);
    try {
      const res = await requestSync(libp2p, peerIdFromString(peer), request, {
        timeoutMs,
        maxBytes: answerByteLimit(request),
      });
      const over = answerOverPage(request, res);
      if (over !== null) return dropOversized(peer, request, purpose, over);
      const tookMs = performance.now() - sentAt;
      load.finished(peer, "answered", init.now());
      queue.answered(request.type, tookMs);
      metrics.syncRequestsSent.inc({ outcome: "answered", purpose });
      metrics.syncAnswerSeconds.observe({ purpose }, tookMs / 1000);
      return res;
    } catch (err) {
      if (err instanceof SyncError && err.oversized)
        return dropOversized(peer, request, purpose, err.message);
      const timedOut = err instanceof SyncError && err.timedOut;
      // A refusal is not an answer: the peer cools off as after a timeout, so the next catch-up
      // asks another one rather than the peer that just said no (sync-peer-load.ts).
      const refused = err instanceof SyncError && err.refused;
      const outcome = timedOut ? "timed-out" : refused ? "refused" : "failed";
      load.finished(peer, outcome, init.now());
      metrics.syncRequestsSent.inc({ outcome, purpose });
      const what =
        request.type === "messages"
          ? { epoch: request.epoch, round: request.round, kinds: request.kinds }
          : {};
      log.debug({ peer, type: request.type, ...what, err: (err as Error).message }, "sync request failed");
      return null;
    }
  };

  /**
   * Hands an answer's messages to the inbound pipeline. A throw there (a failed store write, a
   * machine bug) is caught per message, as the gossip path does, so that it neither skips the
   * rest of the answer nor escapes as a rejection that ends the process; logged once per answer.
   * An answer holding a message the pipeline rejects for the responder (what no honest server
   * sends whatever this node's state: a bad signature, bytes that do not decode) lowers the peer's
   * score once, as a rejected gossip message lowers its forwarder's.
   */
  const apply = (peer: string, messages: readonly string[], asked: SyncAsked): void => {
    let failed = 0;
    let first: unknown;
    let rejected = 0;
    for (const b64 of messages) {
      if (stopped) break;
      try {
        if (init.inbound.synced(Buffer.from(b64, "base64"), peer, asked) === "reject") rejected++;
      } catch (err) {
        if (failed++ === 0) first = err;
      }
    }
    if (rejected > 0) {
      init.penalize(peer);
      log.warn({ peer, rejected, of: messages.length }, "sync answer held rejected messages; peer penalised");
    }
    if (failed > 0)
      log.warn(
        { peer, failed, of: messages.length, err: String(first) },
        "sync answer: applying messages failed; skipped them",
      );
  };

  const fetchDecision = async (peer: string, epoch: number | null): Promise<void> => {
    const request: DecisionRequest = {
      type: "decision",
      contractId: init.contractId,
      ...(epoch !== null ? { epoch } : {}),
    };
    const res = await ask(peer, request, "decision");
    if (!res || stopped) return;
    if (epoch === null && res.messages.length === 0) init.noDecision?.(peer);
    // Epochs from the one asked for (the answer covers DECISIONS_PER_SYNC of them); the current
    // decision comes with exclusion plans of earlier epochs, so any epoch.
    else
      apply(peer, res.messages, {
        kinds: DECISION_KINDS,
        ...(epoch !== null ? { epochs: { from: epoch } } : {}),
      });
  };

  const fetchFrom = async (peer: string, want: SyncWant): Promise<void> => {
    if (want.type === "decision") return fetchDecision(peer, want.epoch);
    const agents = syncAgents(want);
    const purpose = syncPurpose(want);
    let after: number | undefined;
    for (let page = 0; page < MAX_PAGES && !stopped; page++) {
      // Read here to tell the machine what this request waited.
      const timeoutMs = queue.requestTimeoutMs("messages");
      const res = await ask(
        peer,
        {
          type: "messages",
          contractId: init.contractId,
          epoch: want.epoch,
          ...(want.round !== undefined ? { round: want.round } : {}),
          kinds: [...want.kinds],
          ...(agents !== undefined ? { agents: [...agents] } : {}),
          limit: MAX_SYNC_PAGE,
          ...(after !== undefined ? { after } : {}),
        } satisfies MessagesRequest,
        purpose,
        timeoutMs,
      );
      // Before the answer is applied: a round it completes opens the next on this outcome.
      init.syncEnded?.(res !== null, timeoutMs);
      if (!res) return;
      apply(peer, res.messages, {
        kinds: want.kinds,
        epochs: { from: want.epoch, to: want.epoch },
        ...(want.round !== undefined ? { round: want.round } : {}),
      });
      if (stopped || res.next === undefined) return;
      after = res.next;
    }
  };

  /** Asks each of `s`'s targets; once all are done, starts the wants in line that may go now. */
  const run = (s: SyncStart): void => {
    void Promise.all(s.targets.map((peer) => fetchFrom(peer, s.want)))
      .catch((err) => log.error({ want: s.key, err: String(err) }, "sync catch-up failed"))
      .finally(() => {
        for (const next of queue.ended(s.key, init.now(), shuffledPeers)) if (!stopped) run(next);
      });
  };

  const catchUp = (want: SyncWant): void => {
    if (stopped) return;
    for (const s of queue.want(want, init.now(), shuffledPeers)) run(s);
  };

  // ---- server ----------------------------------------------------------------------------

  /** Stored rows without the unservable ones (a set lookup each, only when there are any). */
  const servable = <R extends StoredMessage>(rows: R[]): R[] => {
    const skip = init.unservable?.();
    return skip && skip.size > 0 ? rows.filter((r) => !skip.has(r.digest)) : rows;
  };

  const refuse = (req: SyncRequest, from: string): SyncResponse => {
    metrics.syncRequestsServed.inc({ type: req.type, outcome: "refused" });
    init.penalize(from);
    const now = init.now();
    if (now - (refusalLoggedAt.get(from) ?? Number.NEGATIVE_INFINITY) >= 1_000) {
      refusalLoggedAt.set(from, now);
      if (refusalLoggedAt.size > 1_000) refusalLoggedAt.clear();
      log.warn({ peer: from, type: req.type }, "sync requests over the peer's budget; refusing");
    }
    if (bans.refused(from, now)) ban(from);
    return { error: `over budget for ${req.type} requests: slow down` };
  };

  /**
   * Refusals alone cost a flooder nothing once it ignores them, and gossipsub's graylist reaches
   * only peers that speak gossipsub: a banned peer's streams are held unread (below) whatever it
   * speaks. Logged once per ban.
   */
  const ban = (peer: string): void => {
    metrics.syncBans.inc();
    log.warn(
      { peer },
      "sync requests over budget again and again; holding the peer's requests unread for a while",
    );
  };

  /**
   * A graylisted peer's streams are held unread and then reset (each still lowers its score, so a
   * peer that floods on stays graylisted). Hanging up instead was tried: the flooder redialled at
   * once, and each Noise handshake, identify and gossipsub exchange cost the victim more than the
   * refusals it saved. A banned peer's streams are held the same way (sync-ban.ts).
   */
  const admit = (from: string): boolean => {
    if (bans.banned(from, init.now())) {
      metrics.syncRequestsServed.inc({ type: "unread", outcome: "banned" });
      init.penalize(from);
      return false;
    }
    if (!init.graylisted(from)) return true;
    metrics.syncRequestsServed.inc({ type: "unread", outcome: "refused" });
    init.penalize(from);
    return false;
  };

  /**
   * Whether the store holds everything received: the writer's batch is written first unless its
   * writes are failing (a full disk), when the caller serves the batch from memory instead.
   */
  const allStored = (): boolean => {
    if (init.writer.failing) return false;
    try {
      init.writer.flush();
      return true;
    } catch (err) {
      log.debug(
        { err: String(err) },
        "sync answer: the received batch could not be written; served from memory",
      );
      return false;
    }
  };

  const messagesPage = (req: MessagesRequest, from: string): SyncResponse => {
    const query = {
      epoch: req.epoch,
      ...(req.round !== undefined ? { round: req.round } : {}),
      ...(req.kinds ? { kinds: messageKinds(req.kinds) } : {}),
      ...(req.agents ? { signers: req.agents } : {}),
    };
    const limit = req.limit ?? MAX_SYNC_PAGE;
    const inMemory = !allStored();
    const page = store.messagePage(query, req.after ?? 0, limit);
    const stored = servable(page.messages);
    // Received, not written yet: after the last stored page, as they will be stored.
    const rows =
      inMemory && page.next === null
        ? [...stored, ...init.writer.unwritten((m) => matchesQuery(query, m))]
        : stored;
    const messages: string[] = [];
    let bytes = 0;
    let next = page.next;
    for (const [i, m] of rows.entries()) {
      if (i >= limit || (i > 0 && bytes + m.bytes.length > MAX_PAGE_BYTES)) {
        // The next page starts after the last stored one sent. Unwritten ones have no position
        // yet: an answer cut among them ends without `next` (protocol.md §3), and the asker gets
        // the rest when the machine asks again for what it still lacks.
        if (i > 0 && i <= stored.length) next = (stored[i - 1] as { position: number }).position;
        break;
      }
      bytes += m.bytes.length;
      messages.push(Buffer.from(m.bytes).toString("base64"));
    }
    metrics.syncMessagesServed.inc(messages.length);
    budget.charge(from, "messages", messages.length, init.now());
    return next === null ? { messages } : { messages, next };
  };

  /**
   * Every proposal and accept of epochs [epoch, epoch + DECISIONS_PER_SYNC), in the order the
   * asker adopts them, cut at MAX_PAGE_BYTES (the asker asks again from where it got to); with no
   * epoch asked, the current decision whole and the exclusion plans that fit (current-decision-answer.ts).
   */
  const decisionPage = (req: DecisionRequest, from: string): SyncResponse => {
    let encoded: Uint8Array[];
    if (req.epoch === undefined) {
      const { decision, exclusions } = init.currentDecision();
      encoded = currentDecisionAnswer(decision.map(encodeMessage), exclusions.map(encodeMessage));
    } else {
      const rows = [];
      const kinds = ["propose", "accept"];
      const inMemory = !allStored();
      const first = req.epoch;
      let last = first;
      // Counted, not compared with req.epoch + DECISIONS_PER_SYNC: past 2^53 an epoch + 1 rounds
      // back to itself and that loop never ended (one request froze the node). Epochs beyond the
      // safe integers hold nothing, so the answer stops there.
      for (let i = 0; i < DECISIONS_PER_SYNC; i++) {
        const epoch = req.epoch + i;
        if (!Number.isSafeInteger(epoch)) break;
        last = epoch;
        rows.push(...servable(store.messages({ epoch, kinds })));
      }
      // The batch scanned once, not once per epoch: on a full disk it holds all that came since.
      if (inMemory)
        rows.push(
          ...init.writer.unwritten((m) => m.epoch >= first && m.epoch <= last && kinds.includes(m.kind)),
        );
      encoded = decisionsFrom(rows, req.epoch).map((r) => r.bytes);
    }
    const messages: string[] = [];
    let bytes = 0;
    for (const m of encoded) {
      if (messages.length > 0 && bytes + m.length > MAX_PAGE_BYTES) break;
      bytes += m.length;
      messages.push(Buffer.from(m).toString("base64"));
    }
    metrics.syncMessagesServed.inc(messages.length);
    budget.charge(from, "decision", messages.length, init.now());
    return { messages };
  };

  const serve = async (req: SyncRequest, from: string): Promise<SyncResponse> => {
    if (!budget.allow(from, req.type, init.now())) return refuse(req, from);
    metrics.syncRequestsServed.inc({ type: req.type, outcome: "served" });
    switch (req.type) {
      case "contract":
        return { contract: req.contractId === init.contractId ? init.contract : null };
      case "status":
        return { status: init.status() };
      case "messages":
        if (req.contractId !== init.contractId) return { error: `unknown contract ${req.contractId}` };
        return messagesPage(req, from);
      case "decision":
        if (req.contractId !== init.contractId) return { error: `unknown contract ${req.contractId}` };
        return decisionPage(req, from);
      case "ledger":
        if (req.contractId !== init.contractId) return { error: `unknown contract ${req.contractId}` };
        return init.ledgerPage(req.after);
    }
  };

  return {
    start: () =>
      handleSync(libp2p, serve, {
        admit,
        refusedHoldMs: init.refusedHoldMs,
        onError: (err, from) => {
          log.debug({ peer: from, err: String(err) }, "sync exchange failed");
        },
        onAbandoned: (req) => {
          metrics.syncRequestsServed.inc({ type: req.type, outcome: "abandoned" });
        },
      }),
    catchUp,
    fetchLedger: async (after) => {
      const peers = shuffledPeers();
      const peer = peers[0];
      if (!peer || stopped) return { entries: [], more: false };
      const res = await ask(
        peer,
        {
          type: "ledger",
          contractId: init.contractId,
          ...(after ? { after } : {}),
        },
        "ledger",
      );
      if (!res) throw new Error(`no ledger page from ${peer}`);
      // The asker verifies the page after this returns: a page that fails must name its sender.
      return { ...res, peer };
    },
    stop: () => {
      stopped = true;
      queue.clear();
    },
  };
}
