import { join } from "node:path";
import {
  createHost,
  type GossipKind,
  gossipTopic,
  type Host,
  loadOrCreateKey,
  type WalrasNode,
} from "@walras/node";
import {
  type AcceptMessage,
  type Contract,
  contractId,
  createSigner,
  type EpochPlan,
  encodeMessage,
  foundingPlan,
  PROTOCOL_VERSION,
  type ProposeMessage,
  planDigest,
  proposerOf,
  type Signer,
  signMessage,
  sortedUnique,
  type Unsigned,
  type WireMessage,
} from "@walras/protocol";
import { waitFor } from "./wait-for.ts";

/**
 * A hostile peer: a real libp2p node (TCP, Noise, Yamux, gossipsub) that speaks the walras wire
 * protocol but publishes whatever bytes a test hands it. It has its own agent key, which is not
 * a member's unless a test gives it one.
 */
export interface HostilePeer {
  /** Its libp2p peer id, which is also the agent id its own key signs as. */
  readonly peerId: string;
  /** Signs as this peer's own (non-member) agent. */
  readonly signer: Signer;
  readonly host: Host;
  /** Publish raw bytes on one of the contract's topics; resolves with how many peers were sent them. */
  send(kind: GossipKind, bytes: Uint8Array): Promise<number>;
  /** Publish a message's canonical bytes on `kind`'s topic. */
  sendMessage(kind: GossipKind, message: WireMessage): Promise<number>;
  /** Resolves once every one of `peerIds` is known to subscribe to all the contract's topics. */
  subscribed(peerIds: readonly string[]): Promise<void>;
  stop(): Promise<void>;
}

const ALL_KINDS: readonly GossipKind[] = ["demand", "commit", "membership"];

interface FloodPublisher {
  publish(
    topic: string,
    data: Uint8Array,
    opts: { floodPublish: boolean },
  ): Promise<{ recipients: unknown[] }>;
}

/**
 * Starts a hostile peer that dials `targets` and resolves once every one of them is known to
 * subscribe to all the contract's topics, so the first publish reaches them all (it
 * flood-publishes: every subscribed peer gets the bytes directly, as any peer may send them,
 * whatever the honest nodes' own mesh).
 */
export async function startHostilePeer(options: {
  contractId: string;
  /** Multiaddrs (with /p2p/) of the honest nodes to attack. */
  targets: readonly string[];
  /** Peer ids of those nodes. */
  targetIds: readonly string[];
  /** Where its key file goes. */
  dir: string;
  name: string;
}): Promise<HostilePeer> {
  const key = await loadOrCreateKey(join(options.dir, `${options.name}.key`));
  const host = await createHost({
    privateKey: key.privateKey,
    listen: ["/ip4/127.0.0.1/tcp/0"],
    bootstrap: [...options.targets],
  });
  const pubsub = host.libp2p.services.pubsub;
  // Gossipsub sends only over an outbound stream it opened itself, which may come up after the
  // peer's subscriptions have arrived on the inbound one; the field is not in its public type.
  const outbound = (pubsub as unknown as { streamsOutbound: Map<string, unknown> }).streamsOutbound;
  const topic = (kind: GossipKind) => gossipTopic(options.contractId, kind);
  const subscribed = (peerIds: readonly string[]) =>
    waitFor(
      () =>
        ALL_KINDS.every((kind) => {
          const subscribers = new Set(pubsub.getSubscribers(topic(kind)).map(String));
          return peerIds.every((id) => subscribers.has(id) && outbound.has(id));
        }),
      { timeoutMs: 20_000, what: `${options.name} to see ${peerIds.length} peers subscribed` },
    );
  try {
    await subscribed(options.targetIds);
  } catch (err) {
    await host.stop();
    throw err;
  }
  // gossipsub's class takes publish options that its exported interface does not show.
  const flooding = pubsub as unknown as FloodPublisher;
  const send = async (kind: GossipKind, bytes: Uint8Array) =>
    (await flooding.publish(topic(kind), bytes, { floodPublish: true })).recipients.length;
  return {
    peerId: key.peerId.toString(),
    signer: createSigner(key.privateKey.raw),
    host,
    send,
    sendMessage: (kind, message) => send(kind, encodeMessage(message)),
    subscribed,
    stop: () => host.stop(),
  };
}

/** walras_messages_rejected_total{reason} on one node (rejections and ignores both count). */
export async function rejectedCount(node: WalrasNode, reason: string): Promise<number> {
  const metric = await node.metrics.messagesRejected.get();
  return metric.values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

/** A founding proposal of `founder`'s: epoch 0, decided by itself alone, its only member. */
export function foundingProposal(contract: Contract, founder: Signer): ProposeMessage {
  const plan = foundingPlan(founder.id, [founder.id]);
  const head = { v: PROTOCOL_VERSION, contract: contractId(contract), epoch: 0, view: 0 };
  return signMessage(
    { ...head, kind: "propose", agent: founder.id, plan } as Unsigned<ProposeMessage>,
    founder,
  );
}

/**
 * A decided epoch `epoch` (> 0) made up by a stranger (docs/security.md §2): its throwaway keys
 * name themselves members, deciders and voters; the proposer's `propose` and the other keys'
 * `accept`s, a full quorum. A node that took its first epoch from gossip would adopt it.
 */
export function madeUpDecision(contract: Contract, epoch: number, keys: readonly Signer[]): WireMessage[] {
  const cid = contractId(contract);
  const ids = sortedUnique(keys.map((k) => k.id));
  const plan: EpochPlan = {
    members: ids,
    deciders: ids,
    voters: ids,
    base: { epoch: epoch - 1, round: 0, prices: contract.resources.map(() => 0.125) },
    terms: null,
    ledger: null,
    cause: ["join"],
  };
  const head = { v: PROTOCOL_VERSION, contract: cid, epoch, view: 0 };
  const proposer = proposerOf(epoch, 0, ids);
  return keys.map((k) =>
    k.id === proposer
      ? signMessage({ ...head, kind: "propose", agent: k.id, plan } as Unsigned<ProposeMessage>, k)
      : signMessage(
          { ...head, kind: "accept", agent: k.id, plan: planDigest(epoch, plan) } as Unsigned<AcceptMessage>,
          k,
        ),
  );
}
