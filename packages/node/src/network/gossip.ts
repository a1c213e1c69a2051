import {
  type GossipSub,
  type GossipsubMessage,
  type SubscriptionChangeData,
  TopicValidatorResult,
} from "@libp2p/gossipsub";
import { createTopicScoreParams, type PeerScoreParams } from "@libp2p/gossipsub/score";
import type { Libp2p, PeerId } from "@libp2p/interface";
import { GOSSIP_KINDS, type GossipKind, gossipTopic } from "./gossip-topics.ts";

export type Verdict = "accept" | "reject" | "ignore";

export interface GossipHandlers {
  /**
   * Decides a message's fate before it is delivered or forwarded. `reject` penalises the peer
   * that sent it (gossipsub score); `ignore` drops it without blame. Must be fast (< 100 ms):
   * gossipsub holds the message while it runs. A throw counts as `ignore`.
   */
  validate(kind: GossipKind, bytes: Uint8Array, from: string): Verdict | Promise<Verdict>;
  /** Only accepted messages arrive here. `from` is the peer that forwarded it to us. */
  onMessage(kind: GossipKind, bytes: Uint8Array, from: string): void;
  /**
   * Told when `validate` or `onMessage` threw, so the caller can log and count it. Neither throw
   * escapes: a throw inside an event listener would otherwise be an uncaught exception.
   */
  onError?(err: unknown, context: { stage: "validate" | "deliver"; kind: GossipKind; from: string }): void;
  /**
   * A peer subscribed to the kind's topic when no other was known to: what was published on it
   * meanwhile went to no one.
   */
  onLinked?(kind: GossipKind): void;
}

export interface Gossip {
  readonly contractId: string;
  /**
   * Gossips bytes on the kind's topic: to the mesh, or with `flood` to every peer known to
   * subscribe (above gossipsub's publish threshold) as gossipsub's floodPublish does.
   */
  publish(kind: GossipKind, bytes: Uint8Array, options?: { readonly flood?: boolean }): Promise<void>;
  /** Peers known to subscribe to this kind's topic. */
  topicPeers(kind: GossipKind): string[];
  /** Peers in our mesh for this kind's topic (the ones we forward to). */
  meshPeers(kind: GossipKind): string[];
  /** The router's current score for a peer; negative after it sent rejected messages. */
  peerScore(peerId: string): number;
  /**
   * Lowers a peer's score for misbehaviour outside gossip (a sync flood): gossipsub's behaviour
   * penalty P7, quadratic in the count and decaying each second, so a burst is forgiven and a
   * flood is not. No effect on a peer that does not speak gossipsub.
   */
  penalize(peerId: string): void;
  /** Below gossipsub's graylist threshold: the router already ignores everything it sends. */
  graylisted(peerId: string): boolean;
  /** How many times `validate` threw (each counted as `ignore`). */
  validatorErrors(): number;
  stop(): void;
}

/** The parts of the gossipsub implementation its public interface type leaves out. */
interface GossipSubRouter {
  isStarted(): boolean;
  getMeshPeers(topic: string): string[];
  getScore(peerId: string): number;
  score: { params: PeerScoreParams; addPenalty(peerId: string, penalty: number, label: string): void };
  opts: { scoreThresholds: { graylistThreshold: number } };
  // The class takes per-message options that the exported GossipSub interface leaves out.
  publish(topic: string, data: Uint8Array, opts?: { floodPublish?: boolean }): Promise<unknown>;
}

const VERDICTS: Record<Verdict, TopicValidatorResult> = {
  accept: TopicValidatorResult.Accept,
  reject: TopicValidatorResult.Reject,
  ignore: TopicValidatorResult.Ignore,
};

/**
 * Scoring for a walras topic. Only invalid deliveries count: traffic is bursty (a few messages per
 * round), so gossipsub's default mesh-delivery quotas would punish honest quiet peers. P4 is
 * quadratic, so with weight -10 one rejected message costs -10 (the gossip threshold) and three
 * reach the graylist (-80); the decay (per second) forgives in about a minute. The discovery
 * topic is scored the same way (discovery-validator.ts).
 */
export const walrasTopicScore = createTopicScoreParams({
  topicWeight: 1,
  timeInMeshWeight: 0,
  firstMessageDeliveriesWeight: 0,
  meshMessageDeliveriesWeight: 0,
  meshFailurePenaltyWeight: 0,
  invalidMessageDeliveriesWeight: -10,
  invalidMessageDeliveriesDecay: 0.95,
});

/** Subscribes to a contract's three topics and routes their messages through `handlers`. */
export function createGossip(
  libp2p: Libp2p<{ pubsub: GossipSub }>,
  contractId: string,
  handlers: GossipHandlers,
): Gossip {
  const pubsub = libp2p.services.pubsub;
  const router = pubsub as unknown as GossipSubRouter;
  const kindOfTopic = new Map<string, GossipKind>(GOSSIP_KINDS.map((k) => [gossipTopic(contractId, k), k]));
  let validatorErrors = 0;
  const report: NonNullable<GossipHandlers["onError"]> = (err, context) => {
    try {
      handlers.onError?.(err, context);
    } catch {
      // A failing error hook must not become the throw it reports.
    }
  };

  for (const [topic, kind] of kindOfTopic) {
    // Topic score params are read per use, so adding them after start takes effect at once.
    router.score.params.topics[topic] = walrasTopicScore;
    pubsub.topicValidators.set(topic, async (peer, message) => {
      const from = peer.toString();
      try {
        return VERDICTS[await handlers.validate(kind, message.data, from)] ?? TopicValidatorResult.Ignore;
      } catch (err) {
        validatorErrors++;
        report(err, { stage: "validate", kind, from });
        return TopicValidatorResult.Ignore;
      }
    });
    pubsub.subscribe(topic);
  }

  const onMessage = (event: CustomEvent<GossipsubMessage>): void => {
    const { msg, propagationSource } = event.detail;
    const kind = kindOfTopic.get(msg.topic);
    if (kind === undefined) return;
    const from = propagationSource.toString();
    try {
      handlers.onMessage(kind, msg.data, from);
    } catch (err) {
      report(err, { stage: "deliver", kind, from });
    }
  };
  pubsub.addEventListener("gossipsub:message", onMessage);

  // The peers seen subscribing to each topic, kept here rather than read from gossipsub: it
  // dispatches a change for a repeated SUBSCRIBE too, and after it has already counted the peer.
  // "linked" is the step from none to one; a peer that goes by disconnecting sends no change.
  const subscribers = new Map<string, Set<string>>(
    GOSSIP_KINDS.map((k) => [gossipTopic(contractId, k), new Set()]),
  );
  const onSubscriptionChange = (event: CustomEvent<SubscriptionChangeData>): void => {
    const from = event.detail.peerId.toString();
    for (const { topic, subscribe } of event.detail.subscriptions) {
      const kind = kindOfTopic.get(topic);
      const peers = subscribers.get(topic);
      if (kind === undefined || peers === undefined) continue;
      if (!subscribe) {
        peers.delete(from);
        continue;
      }
      const none = peers.size === 0;
      peers.add(from);
      if (!none) continue;
      try {
        handlers.onLinked?.(kind);
      } catch (err) {
        report(err, { stage: "deliver", kind, from });
      }
    }
  };
  const onDisconnect = (event: CustomEvent<PeerId>): void => {
    const peer = event.detail.toString();
    for (const peers of subscribers.values()) peers.delete(peer);
  };
  pubsub.addEventListener("subscription-change", onSubscriptionChange);
  libp2p.addEventListener("peer:disconnect", onDisconnect);

  const topicOf = (kind: GossipKind): string => gossipTopic(contractId, kind);
  return {
    contractId,
    publish: async (kind, bytes, options) => {
      await router.publish(topicOf(kind), bytes, options?.flood ? { floodPublish: true } : undefined);
    },
    topicPeers: (kind) => pubsub.getSubscribers(topicOf(kind)).map((p) => p.toString()),
    meshPeers: (kind) => router.getMeshPeers(topicOf(kind)),
    peerScore: (peerId) => router.getScore(peerId),
    penalize: (peerId) => router.score.addPenalty(peerId, 1, "sync_rate_limit"),
    graylisted: (peerId) => router.getScore(peerId) < router.opts.scoreThresholds.graylistThreshold,
    validatorErrors: () => validatorErrors,
    stop: () => {
      pubsub.removeEventListener("gossipsub:message", onMessage);
      pubsub.removeEventListener("subscription-change", onSubscriptionChange);
      libp2p.removeEventListener("peer:disconnect", onDisconnect);
      for (const topic of kindOfTopic.keys()) {
        // A stopped router has left every topic by closing its connections (host.ts).
        if (router.isStarted()) pubsub.unsubscribe(topic);
        pubsub.topicValidators.delete(topic);
        delete router.score.params.topics[topic];
      }
    },
  };
}
