import { Counter, Gauge, Histogram, Registry } from "prom-client";

export type GossipKindLabel = "demand" | "commit" | "membership";

/**
 * The node's own metrics. Each node gets its own Registry (never prom-client's global one) so
 * several nodes can share a process, and libp2p's prometheus metrics are pointed at the same
 * registry so one /metrics scrape shows both.
 */
export interface NodeMetrics {
  readonly registry: Registry;
  readonly messagesAccepted: Counter<"kind">;
  readonly messagesRejected: Counter<"reason">;
  /** Gossip messages accepted on trust (membership not judgeable here), kept but not forwarded, by kind. */
  readonly messagesKeptUnforwarded: Counter<"kind">;
  /** Messages this node signed and gossiped, by kind. */
  readonly messagesPublished: Counter<"kind">;
  /** Signed message bytes accepted (`in`) and published (`out`): the protocol's own traffic. */
  readonly messageBytes: Counter<"direction">;
  /** Sync requests this node answered, by request type and outcome (served, refused, failed). */
  readonly syncRequestsServed: Counter<"type" | "outcome">;
  /** Messages this node sent in answer to sync requests. */
  readonly syncMessagesServed: Counter;
  /**
   * Sync requests this node sent, by outcome (answered, refused, timed-out, failed, oversized,
   * coalesced, deferred) and purpose (protocol sync-purpose.ts: decision, ledger, kinds:named|all).
   */
  readonly syncRequestsSent: Counter<"outcome" | "purpose">;
  /** How long answered catch-up requests took, by purpose: what a request timeout leaves room for. */
  readonly syncAnswerSeconds: Histogram<"purpose">;
  /** The timeout of the latest catch-up request of each type: above the contract's when answers come late. */
  readonly syncRequestTimeoutSeconds: Gauge<"type">;
  /** Peers whose sync streams are held unread for a while after too many over-budget requests (sync-ban.ts). */
  readonly syncBans: Counter;
  /** HTTP connections and requests turned away, by reason (http/http-refusals.ts). */
  readonly httpRefused: Counter<"reason">;
  readonly rounds: Counter;
  readonly round: Gauge;
  readonly epoch: Gauge;
  readonly residual: Gauge;
  readonly timeToAgreementSeconds: Histogram;
  readonly peers: Gauge;
  /** Prometheus text exposition of everything in `registry`. */
  render(): Promise<string>;
}

export function createNodeMetrics(registry: Registry = new Registry()): NodeMetrics {
  const registers = [registry];
  return {
    registry,
    messagesAccepted: new Counter({
      name: "walras_messages_accepted_total",
      help: "Gossip messages accepted by validation, by message kind.",
      labelNames: ["kind"],
      registers,
    }),
    messagesRejected: new Counter({
      name: "walras_messages_rejected_total",
      help: "Gossip messages rejected or ignored by validation, by reason.",
      labelNames: ["reason"],
      registers,
    }),
    messagesKeptUnforwarded: new Counter({
      name: "walras_messages_kept_unforwarded_total",
      help: "Gossip messages taken on trust (their signer's membership not judgeable here: no epoch yet, or a later one), kept but passed to gossipsub as ignore so not forwarded, by message kind.",
      labelNames: ["kind"],
      registers,
    }),
    messagesPublished: new Counter({
      name: "walras_messages_published_total",
      help: "Messages this node signed and gossiped, by message kind.",
      labelNames: ["kind"],
      registers,
    }),
    messageBytes: new Counter({
      name: "walras_message_bytes_total",
      help: "Signed message bytes accepted from the network (in) and published (out).",
      labelNames: ["direction"],
      registers,
    }),
    syncRequestsServed: new Counter({
      name: "walras_sync_requests_served_total",
      help: "Sync requests from peers, by type and outcome (served; refused: over the peer's budget; banned: a stream of a peer banned for flooding, held unread and reset; abandoned: the asker reset its stream before the answer went out, and one whose asker went while it was built counts as served too).",
      labelNames: ["type", "outcome"],
      registers,
    }),
    syncMessagesServed: new Counter({
      name: "walras_sync_messages_served_total",
      help: "Messages sent to peers in answer to sync requests.",
      registers,
    }),
    syncRequestsSent: new Counter({
      name: "walras_sync_requests_sent_total",
      help: "Sync requests this node sent for catch-up, by outcome (answered; refused: the peer answered with an error or reset the stream, and is not asked again for a while; timed-out: no answer within the request timeout; failed: any other error (the stream or connection failed, an undecodable answer); oversized: more messages or bytes than the page asked for, dropped and the peer penalised; coalesced with one in flight, or deferred while every peer had one of ours in flight), and by purpose: `decision`, `ledger`, or the kinds asked for and whether the request named the agents whose messages were missing (`demand:named`) or asked for all of a round's or epoch's (`demand:all`).",
      labelNames: ["outcome", "purpose"],
      registers,
    }),
    syncAnswerSeconds: new Histogram({
      name: "walras_sync_answer_seconds",
      help: "How long this node's answered sync requests took, from dialling the peer to the answer read and parsed, by purpose (as walras_sync_requests_sent_total): on a loaded network, how close answers come to the request timeout (walras_sync_request_timeout_seconds; parsing comes after the timer, so an answer may land above it). Only answered requests: timed-out, refused, failed and oversized ones are in walras_sync_requests_sent_total alone.",
      labelNames: ["purpose"],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 2.5, 2.75, 3, 4, 5, 6],
      registers,
    }),
    syncRequestTimeoutSeconds: new Gauge({
      name: "walras_sync_request_timeout_seconds",
      help: "How long this node waited for the answer to its latest catch-up request of each type (messages, decision, ledger): the contract's fixed timeout (1–3 s for messages, 3 s for pages), up to 1.5 times it while answers are coming late (the answer times' smoothed mean plus four mean deviations, RFC 6298's rule).",
      labelNames: ["type"],
      registers,
    }),
    syncBans: new Counter({
      name: "walras_sync_bans_total",
      help: "Peers banned after too many sync requests over their budget in a short time: their sync streams held unread and reset for a cooling-off period.",
      registers,
    }),
    httpRefused: new Counter({
      name: "walras_http_refused_total",
      help: "HTTP connections and requests turned away, by reason (connections: over the connection cap, answered 503 and closed; event_streams: /events over its cap, 503; body_too_large: a request body over the limit, 413; timeout: headers or request not received in time, a slow-loris or a stalled client, 408 and closed; stalled_reader: a client that read none of its response for the write-stall timeout, disconnected; slow_events_reader: an /events client reading slower than the market moves, over 1 MiB waiting for it, disconnected).",
      labelNames: ["reason"],
      registers,
    }),
    rounds: new Counter({ name: "walras_rounds_total", help: "Price rounds completed.", registers }),
    round: new Gauge({ name: "walras_round", help: "Current round within the epoch.", registers }),
    epoch: new Gauge({ name: "walras_epoch", help: "Current epoch.", registers }),
    residual: new Gauge({
      name: "walras_residual",
      help: "Relative market-clearing residual max_r |S_r - m_r| / m_r at the current prices.",
      registers,
    }),
    timeToAgreementSeconds: new Histogram({
      name: "walras_time_to_agreement_seconds",
      help: "Wall time from an epoch's first round to its equilibrium certificate.",
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120],
      registers,
    }),
    peers: new Gauge({ name: "walras_peers", help: "Connected libp2p peers.", registers }),
    render: () => registry.metrics(),
  };
}
