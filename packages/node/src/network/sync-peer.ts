import type { Libp2p } from "@libp2p/interface";
import { peerIdFromString } from "@libp2p/peer-id";
import { type Contract, kindsOf, type MessageKind, type SyncWant, type Topic } from "@walras/protocol";
import type { Logger } from "pino";
import type { InboundPipeline } from "../inbound/inbound-pipeline.ts";
import type { NodeMetrics } from "../metrics/node-metrics.ts";
import type { MessageWriter } from "../store/message-writer.ts";
import type { Store } from "../store/store.ts";
import { GOSSIP_KINDS } from "./gossip-topics.ts";
import { createSyncBudget, type SyncBudget } from "./sync-budget.ts";
import {
  MAX_SYNC_PAGE,
  type MessagesRequest,
  type SyncKind,
  type SyncRequest,
  type SyncResponse,
} from "./sync-messages.ts";
import { handleSync, requestSync } from "./sync-protocol.ts";

/**
 * Both ends of catch-up over `/walras/sync/1.0.0`. As a client it fetches what the machine says
 * it is missing, with identical wants in flight coalesced and a bound on how many run at once, so
 * a slow round does not become a request storm. As a server it answers within a per-peer budget:
 * a peer over it gets an error and a lower gossipsub score; once graylisted, its requests are
 * held unread and reset.
 */
export interface SyncPeer {
  /** Starts serving requests. */
  start(): Promise<void>;
  /** Fetches the messages `want` names from connected peers; answers go through the inbound pipeline. */
  catchUp(want: SyncWant): void;
  /** Stops fetching (answers still arriving are dropped). */
  stop(): void;
}

export interface SyncPeerInit {
  readonly libp2p: Libp2p;
  readonly contract: Contract;
  readonly contractId: string;
  readonly store: Store;
  /** Flushed before the store is read, so an answer includes everything received. */
  readonly writer: MessageWriter;
  readonly inbound: InboundPipeline;
  readonly metrics: NodeMetrics;
  readonly log: Logger;
  status(): Record<string, unknown>;
  /** Lowers a peer's (gossipsub) score. */
  penalize(peer: string): void;
  /** True when a peer's score says nothing it sends is wanted any more. */
  graylisted(peer: string): boolean;
  readonly budget?: SyncBudget;
  now(): number;
}

/** How many peers one catch-up asks at once: a second covers a first that lacks the messages. */
const FANOUT = 2;
const REQUEST_TIMEOUT_MS = 3_000;
/** Catch-ups running at once; more wait in line (identical ones are merged). */
const MAX_IN_FLIGHT = 4;
const MAX_QUEUED = 64;
/** Pages one catch-up follows from one peer. */
const MAX_PAGES = 16;
/** An answer stops growing past this many message bytes (its `next` then names the rest). */
const MAX_PAGE_BYTES = 1024 * 1024;

const wantKey = (want: SyncWant) => `${want.epoch}/${want.round ?? "*"}/${[...want.kinds].sort().join(",")}`;

/** A request's kinds (topic names or message kinds) as the message kinds the store holds. */
function messageKinds(kinds: readonly SyncKind[]): MessageKind[] {
  const topics: readonly string[] = GOSSIP_KINDS;
  return [...new Set(kinds.flatMap((k) => (topics.includes(k) ? kindsOf(k as Topic) : [k as MessageKind])))];
}

export function createSyncPeer(init: SyncPeerInit): SyncPeer {
  const { libp2p, metrics, log, store } = init;
  const budget = init.budget ?? createSyncBudget();
  const inFlight = new Set<string>();
  const queued = new Map<string, SyncWant>();
  const refusalLoggedAt = new Map<string, number>();
  let stopped = false;

  // ---- client ----------------------------------------------------------------------------

  const choosePeers = (): string[] => {
    const peers = libp2p.getPeers().map(String);
    for (let i = peers.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [peers[i], peers[j]] = [peers[j] as string, peers[i] as string];
    }
    return peers.slice(0, FANOUT);
  };

  const fetchFrom = async (peer: string, want: SyncWant): Promise<void> => {
    let after: number | undefined;
    for (let page = 0; page < MAX_PAGES && !stopped; page++) {
      let res: { messages: string[]; next?: number | undefined };
      try {
        res = await requestSync(
          libp2p,
          peerIdFromString(peer),
          {
            type: "messages",
            contractId: init.contractId,
            epoch: want.epoch,
            ...(want.round !== undefined ? { round: want.round } : {}),
            kinds: [...want.kinds],
            limit: MAX_SYNC_PAGE,
            ...(after !== undefined ? { after } : {}),
          },
          { timeoutMs: REQUEST_TIMEOUT_MS },
        );
      } catch (err) {
        metrics.syncRequestsSent.inc({ outcome: "failed" });
        log.debug({ peer, err: (err as Error).message }, "sync request failed");
        return;
      }
      metrics.syncRequestsSent.inc({ outcome: "answered" });
      for (const b64 of res.messages) {
        if (stopped) return;
        init.inbound.synced(Buffer.from(b64, "base64"), peer, want.kinds);
      }
      if (res.next === undefined) return;
      after = res.next;
    }
  };

  const run = async (key: string, want: SyncWant): Promise<void> => {
    inFlight.add(key);
    try {
      await Promise.all(choosePeers().map((peer) => fetchFrom(peer, want)));
    } finally {
      inFlight.delete(key);
      const next = queued.entries().next();
      if (!next.done && !stopped) {
        queued.delete(next.value[0]);
        void run(next.value[0], next.value[1]);
      }
    }
  };

  const catchUp = (want: SyncWant): void => {
    if (stopped) return;
    const key = wantKey(want);
    if (inFlight.has(key) || queued.has(key)) {
      metrics.syncRequestsSent.inc({ outcome: "coalesced" });
      return;
    }
    if (inFlight.size < MAX_IN_FLIGHT) {
      void run(key, want);
      return;
    }
    // The machine asks again while anything is missing: dropping the oldest want loses nothing.
    if (queued.size >= MAX_QUEUED) queued.delete(queued.keys().next().value as string);
    queued.set(key, want);
  };

  // ---- server ----------------------------------------------------------------------------

  const refuse = (req: SyncRequest, from: string): SyncResponse => {
    metrics.syncRequestsServed.inc({ type: req.type, outcome: "refused" });
    init.penalize(from);
    const now = init.now();
    if (now - (refusalLoggedAt.get(from) ?? Number.NEGATIVE_INFINITY) >= 1_000) {
      refusalLoggedAt.set(from, now);
      if (refusalLoggedAt.size > 1_000) refusalLoggedAt.clear();
      log.warn({ peer: from, type: req.type }, "sync requests over the peer's budget; refusing");
    }
    return { error: `over budget for ${req.type} requests: slow down` };
  };

  /**
   * A graylisted peer's streams are held unread and then reset (each still lowers its score, so a
   * peer that floods on stays graylisted). Hanging up instead was tried: the flooder redialled at
   * once, and each Noise handshake, identify and gossipsub exchange cost the victim more than the
   * refusals it saved.
   */
  const admit = (from: string): boolean => {
    if (!init.graylisted(from)) return true;
    metrics.syncRequestsServed.inc({ type: "unread", outcome: "refused" });
    init.penalize(from);
    return false;
  };

  const messagesPage = (req: MessagesRequest, from: string): SyncResponse => {
    init.writer.flush();
    const page = store.messagePage(
      {
        epoch: req.epoch,
        ...(req.round !== undefined ? { round: req.round } : {}),
        ...(req.kinds ? { kinds: messageKinds(req.kinds) } : {}),
      },
      req.after ?? 0,
      req.limit ?? MAX_SYNC_PAGE,
    );
    const messages: string[] = [];
    let bytes = 0;
    let next = page.next;
    for (const [i, m] of page.messages.entries()) {
      if (i > 0 && bytes + m.bytes.length > MAX_PAGE_BYTES) {
        next = (page.messages[i - 1] as { position: number }).position;
        break;
      }
      bytes += m.bytes.length;
      messages.push(Buffer.from(m.bytes).toString("base64"));
    }
    metrics.syncMessagesServed.inc(messages.length);
    budget.charge(from, "messages", messages.length, init.now());
    return next === null ? { messages } : { messages, next };
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
    }
  };

  return {
    start: () =>
      handleSync(libp2p, serve, {
        admit,
        onError: (err, from) => {
          log.debug({ peer: from, err: String(err) }, "sync exchange failed");
        },
      }),
    catchUp,
    stop: () => {
      stopped = true;
      queued.clear();
    },
  };
}
