import { type GossipSub, TopicValidatorResult } from "@libp2p/gossipsub";
import type { PeerScoreParams } from "@libp2p/gossipsub/score";
import type { Logger } from "pino";
import { Counter, type Registry } from "prom-client";
import { createPeerRateLimiter } from "../inbound/peer-rate-limiter.ts";
import {
  type AnnouncementProblem,
  DISCOVERY_TOPIC,
  type DiscoveryAnnouncement,
  decodeAnnouncement,
} from "./discovery-announcement.ts";
import { walrasTopicScore } from "./gossip.ts";

/**
 * Announcements this node accepts, from all its peers together. A node re-announces every 5 s,
 * but the copies are the same bytes, so gossip passes one on only when its seen-cache entry has
 * expired (2 min): a network of N nodes brings about N/120 new announcements a second, N at
 * once when it starts. 10 a second with a burst of 100 covers a starting network of 100 nodes
 * and a running one of 1,000, and bounds what a flooder can add to the peer store.
 */
const NODE_ANNOUNCEMENTS_PER_SECOND = 10;
const NODE_ANNOUNCEMENT_BURST = 100;
/**
 * One peer's share before its announcements are rejected and its score lowered. A peer forwards
 * only what it accepted itself, at most the node-wide budget above plus its own, so an honest
 * forwarder stays under twice that budget even when it passes on a flood it could not tell from
 * honest announcements; only a peer that sends what it did not accept goes over.
 */
const PEER_ANNOUNCEMENTS_PER_SECOND = 2 * NODE_ANNOUNCEMENTS_PER_SECOND;
const PEER_ANNOUNCEMENT_BURST = 2 * NODE_ANNOUNCEMENT_BURST;

/** Why an announcement was refused: its decoding problem, `rate` (rejected) or `busy` (ignored). */
export type DiscoveryRefusal = AnnouncementProblem | "rate" | "busy";

export interface DiscoveryValidatorInit {
  /** Told of every accepted announcement, repeats included, before libp2p stores it. */
  onAccepted?(announcement: DiscoveryAnnouncement): void;
  logger?: Logger;
  /** Counts refusals by reason as `walras_discovery_rejected_total`. */
  metricsRegistry?: Registry;
}

export interface DiscoveryValidator {
  stop(): void;
}

/** The parts of the gossipsub implementation its public interface type leaves out. */
interface ScoredRouter {
  score: { params: PeerScoreParams };
}

/**
 * Validates announcements on the discovery topic before gossipsub delivers or forwards them.
 * @libp2p/pubsub-peer-discovery trusts whatever arrives: any key, any number of addresses, each
 * stored by libp2p and dialed by the discovery dialer, and forwarded to every node. A malformed,
 * oversized or over-many-address announcement, or one from a peer over its rate, is rejected:
 * gossipsub drops it and lowers the sender's score on this topic (P4, as on the contract's topics).
 * Beyond the node-wide budget a valid announcement is ignored, unforwarded and unblamed, since the
 * peer that forwarded it may be honest.
 */
export function startDiscoveryValidator(
  pubsub: GossipSub,
  init: DiscoveryValidatorInit = {},
): DiscoveryValidator {
  const router = pubsub as unknown as ScoredRouter;
  const perPeer = createPeerRateLimiter(PEER_ANNOUNCEMENTS_PER_SECOND, PEER_ANNOUNCEMENT_BURST);
  const nodeWide = createPeerRateLimiter(NODE_ANNOUNCEMENTS_PER_SECOND, NODE_ANNOUNCEMENT_BURST);
  const refusals = init.metricsRegistry
    ? new Counter({
        name: "walras_discovery_rejected_total",
        help: "Discovery announcements refused, by reason: oversize, too_many_addrs, malformed, bad_multiaddr, rate (the forwarding peer over its rate); these are rejected and lower its gossipsub score. busy: over the node-wide budget, ignored without blame.",
        labelNames: ["reason"],
        registers: [init.metricsRegistry],
      })
    : undefined;
  const refuse = (from: string, reason: DiscoveryRefusal, detail: string): TopicValidatorResult => {
    refusals?.inc({ reason });
    const busy = reason === "busy";
    if (perPeer.shouldLog(from)) {
      const fields = { peer: from, reason, detail };
      if (busy) init.logger?.debug(fields, "discovery announcement ignored");
      else init.logger?.warn(fields, "discovery announcement rejected");
    }
    return busy ? TopicValidatorResult.Ignore : TopicValidatorResult.Reject;
  };

  router.score.params.topics[DISCOVERY_TOPIC] = walrasTopicScore;
  pubsub.topicValidators.set(DISCOVERY_TOPIC, (peer, message) => {
    const from = peer.toString();
    const now = Date.now();
    if (!perPeer.allow(from, now)) return refuse(from, "rate", `over ${PEER_ANNOUNCEMENTS_PER_SECOND}/s`);
    const decoded = decodeAnnouncement(message.data);
    if (!decoded.ok) return refuse(from, decoded.problem, decoded.detail);
    if (!nodeWide.allow("node", now))
      return refuse(from, "busy", `over ${NODE_ANNOUNCEMENTS_PER_SECOND}/s node-wide`);
    init.onAccepted?.(decoded.announcement);
    return TopicValidatorResult.Accept;
  });
  return {
    stop: () => {
      pubsub.topicValidators.delete(DISCOVERY_TOPIC);
      delete router.score.params.topics[DISCOVERY_TOPIC];
    },
  };
}
