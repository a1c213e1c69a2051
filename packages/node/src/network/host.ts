import { createHash } from "node:crypto";
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { bootstrap } from "@libp2p/bootstrap";
import { type GossipSub, gossipsub } from "@libp2p/gossipsub";
import { type Identify, identify } from "@libp2p/identify";
import type { ConnectionGater, Libp2p, PeerId, PrivateKey } from "@libp2p/interface";
import { type Ping, ping } from "@libp2p/ping";
import { prometheusMetrics } from "@libp2p/prometheus-metrics";
import { pubsubPeerDiscovery } from "@libp2p/pubsub-peer-discovery";
import { tcp } from "@libp2p/tcp";
import { type Multiaddr, multiaddr } from "@multiformats/multiaddr";
import { MAX_MESSAGE_BYTES } from "@walras/protocol";
import { createLibp2p } from "libp2p";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { type BootstrapDialer, peerIdStringOf, startBootstrapDialer } from "./bootstrap-dialer.ts";
import { type DiscoveredPeerPrunerPolicy, startDiscoveredPeerPruner } from "./discovered-peer-pruner.ts";
import { DISCOVERY_TOPIC } from "./discovery-announcement.ts";
import { type DiscoveryDialPolicy, startDiscoveryDialer } from "./discovery-dialer.ts";
import { startDiscoveryValidator } from "./discovery-validator.ts";
import { libp2pLogger } from "./libp2p-logger.ts";
import { noiseCrypto } from "./noise-crypto.ts";
import { type PeerExchange, startPeerExchange } from "./peer-exchange.ts";

export type WalrasServices = { pubsub: GossipSub; identify: Identify; ping: Ping };
export type WalrasLibp2p = Libp2p<WalrasServices>;

export interface HostInit {
  privateKey: PrivateKey;
  /** Listen multiaddrs; default `/ip4/0.0.0.0/tcp/0`. */
  listen?: string[];
  /** Bootstrap multiaddrs, with or without a trailing /p2p/<peer id>. */
  bootstrap?: string[];
  /** libp2p's own metrics go here; omit to run without libp2p metrics. */
  metricsRegistry?: Registry;
  logger?: Logger;
  /** Gossipsub heartbeat; small networks converge faster with a short one. Default 500 ms. */
  heartbeatIntervalMs?: number;
  /** How often this node announces its addresses on the discovery topic (default 5 s). */
  discoveryIntervalMs?: number;
  /** When a node short of peers first asks a peer for its peers, and how often after (10 s, 2 s). */
  peerExchange?: { readonly firstAfterMs?: number; readonly intervalMs?: number };
  /**
   * Extra source IPs exempt from gossipsub's IP-colocation penalty (loopback is always exempt).
   * The whitelist is exact IP strings, not ranges.
   */
  ipColocationWhitelist?: string[];
  /** Bootstrap redial backoff bounds. */
  bootstrapBackoffMs?: { initial: number; max: number };
  /** How discovered peers are dialed (tests lengthen the deferral); default DISCOVERY_DIALS. */
  discoveryDials?: DiscoveryDialPolicy;
  /** libp2p connection gating (tests use a deny-list to partition a network on one machine). */
  connectionGater?: ConnectionGater;
  /** How long unconnected peers stay in the peer store (tests shorten it); default PEER_STORE_PRUNING. */
  peerStorePruning?: DiscoveredPeerPrunerPolicy;
  /** Told of each bootstrap address's first connection (the node asks it for its contract). */
  onBootstrapConnected?: (libp2p: WalrasLibp2p, peer: PeerId, address: string) => void;
}

export interface Host {
  readonly libp2p: WalrasLibp2p;
  /** Resolves once every bootstrap address has been connected once; never rejects. */
  readonly bootstrapped: Promise<void>;
  /** Stops bootstrap redialing, then libp2p. */
  stop(): Promise<void>;
}

const LOOPBACK = ["127.0.0.1", "::1"];
const LOOPBACK_MULTIADDRS = ["/ip4/127.0.0.1", "/ip6/::1"];

export { DISCOVERY_TOPIC };

/**
 * Discovered peers are dialed until a node has 8: a mesh of D = 3 (up to 12 when grafted) and
 * some peers outside it for IHAVE gossip and sync. 12 cost more handshakes than they paid: 50
 * nodes in one process certified in 15.5–16.2 s with 8 against 17.7–20.9 s with 12 (16.6–17.4
 * against 19.5–23.0 CPU-s, three interleaved pairs; as processes the same within one run each,
 * 37.3 against 38.0 s), and 6 was no better than 8 (16.9–18.1 s). Of two peers that discover
 * each other, the larger id leaves the dial to the smaller for 3 s (several gossip heartbeats; a
 * loopback dial takes milliseconds on a quiet machine). A node with fewer than 4 asks its peers
 * for theirs (peer-exchange.ts).
 */
const DISCOVERY_DIALS: DiscoveryDialPolicy = { targetPeers: 8, minPeers: 4, deferMs: 3_000 };
/**
 * How often a node announces its addresses on the discovery topic. Every announcement reaches
 * every node (and is forwarded by each), so at 1 s a 25-node network spent about as much on
 * discovery as on the market. Longer did not pay: at 15 s (with gossipsub's heartbeat at 1 s)
 * 25 idle processes used 26.9 CPU-s in 20 s against 27.7 at 5 s. (A restart test that failed at
 * 10 s failed for another reason, the per-peer rate limit, and fails at 5 s as well without
 * that fix.)
 */
const DISCOVERY_INTERVAL_MS = 5_000;
/**
 * Unconnected peers leave the peer store 5 minutes after their last announcement (honest ones
 * repeat theirs every 2 minutes, gossip's seen-cache lifetime), and at most 256 are kept: a
 * node dials 8, and the 100-node runs of docs/scaling.md §5 stay under the cap.
 */
const PEER_STORE_PRUNING: DiscoveredPeerPrunerPolicy = { maxAgeMs: 300_000, maxPeers: 256, sweepMs: 30_000 };
/**
 * libp2p pings every connection every 10 s and aborts one whose ping outlasts an adaptive timeout
 * (at least 5 s). On a starved machine, 40 node processes on 2 cores, pings took 5–8 s: a timeout
 * that cuts healthy but slow peers, each redial costing a Noise handshake on the same CPU. A slow
 * peer is not a dead one; a crashed process's sockets close at once, and walras judges members by
 * their signed messages (§9.4). So pings are rarer and only a minute's silence cuts a connection.
 */
const CONNECTION_MONITOR = {
  pingInterval: 30_000,
  pingTimeout: { minTimeout: 60_000, maxTimeout: 120_000 },
};

/**
 * libp2p gives a dial 10 s (6 s an address), an inbound connection 10 s to finish Noise and
 * Yamux, and a stream 10 s to agree on its protocol. 100 node processes on 2 cores (load average
 * near 90) could not make that: 15 of them never held a connection (one: 56 dials, 56 failed), so
 * the founder never heard of 100 agents and the market never started; with 30 s every node came
 * up and the network certified (docs/scaling.md §5). A slow peer is not a dead one (as for pings,
 * above); a refused or closed port still fails at once. The cost: an inbound connection that
 * stalls its upgrade holds one of the 10 pending slots (non-loopback addresses) three times as
 * long.
 */
const STARVED_MACHINE_TIMEOUTS = {
  dialTimeout: 30_000,
  addressDialTimeout: 20_000,
  inboundUpgradeTimeout: 30_000,
  outboundStreamProtocolNegotiationTimeout: 30_000,
  inboundStreamProtocolNegotiationTimeout: 30_000,
};

/**
 * The node's libp2p host: TCP + Noise + Yamux, identify, ping and gossipsub tuned for small
 * networks. Started on return; bootstrap dialing continues in the background.
 */
export async function createHost(init: HostInit): Promise<Host> {
  const bootstrapAddrs = init.bootstrap ?? [];
  const withPeerId = bootstrapAddrs.filter((a) => peerIdStringOf(parseAddress(a, "bootstrap")) !== undefined);
  for (const a of init.listen ?? []) parseAddress(a, "listen");
  const debugLogger = libp2pLogger();
  const libp2p = await createLibp2p({
    // Started below, once the discovery topic has its validator: no announcement goes unchecked.
    start: false,
    privateKey: init.privateKey,
    ...(debugLogger !== undefined ? { logger: debugLogger } : {}),
    addresses: { listen: init.listen ?? ["/ip4/0.0.0.0/tcp/0"] },
    transports: [tcp()],
    // libp2p refuses more than 5 inbound connections per second from one IP (10 pending at
    // most). Peers on this very machine share 127.0.0.1, so a local network of 50 nodes would
    // trickle into its bootstrap node for many seconds; they are exempt, as from gossipsub's
    // IP-colocation penalty.
    connectionManager: { allow: LOOPBACK_MULTIADDRS, ...STARVED_MACHINE_TIMEOUTS },
    ...(init.connectionGater !== undefined ? { connectionGater: init.connectionGater } : {}),
    connectionMonitor: CONNECTION_MONITOR,
    connectionEncrypters: [noise({ crypto: noiseCrypto })],
    streamMuxers: [yamux()],
    // @libp2p/bootstrap adds the peers that name an id to the peer store and tags them keep-alive;
    // the bootstrap dialer below does the dialing and retrying for every address.
    // Peers announce their addresses on a discovery topic, so a network bootstrapped from one
    // address becomes a mesh rather than a star through the bootstrap node.
    peerDiscovery: [
      ...(withPeerId.length > 0 ? [bootstrap({ list: withPeerId })] : []),
      pubsubPeerDiscovery({
        interval: init.discoveryIntervalMs ?? DISCOVERY_INTERVAL_MS,
        topics: [DISCOVERY_TOPIC],
      }),
    ],
    ...(init.metricsRegistry !== undefined
      ? { metrics: prometheusMetrics({ registry: init.metricsRegistry, collectDefaultMetrics: false }) }
      : {}),
    services: {
      identify: identify(),
      ping: ping(),
      pubsub: gossipsub({
        heartbeatInterval: init.heartbeatIntervalMs ?? 500,
        // The protocol re-sends and catches up over sync; an early publish must not throw.
        allowPublishToZeroTopicPeers: true,
        emitSelf: false,
        fallbackToFloodsub: false,
        // Every walras message carries its agent's own signature, checked in validation; a
        // second gossipsub envelope signature would only double the verification cost. Ids are
        // content hashes, so one message is one id however many peers forward it.
        globalSignaturePolicy: "StrictNoSign",
        // With content ids a re-sent identical message (a periodic discovery announcement) is a
        // duplicate; dropping it quietly is right, throwing would crash the announcer.
        ignoreDuplicatePublishError: true,
        msgIdFn: (msg) => new Uint8Array(createHash("sha256").update(msg.topic).update(msg.data).digest()),
        // A mesh of D = 3 (D_lo 2, D_out 1) and no flood publishing: each message reaches a node
        // about 3 times instead of 6. Bare hosts with these settings, 50 in one process on a
        // formed mesh (`pnpm bench --only gossip-floor`, two runs): a round of 50 messages took
        // 0.86–1.17 s and 0.41–0.53 ms of CPU per delivery, against 1.45–1.64 s and 0.66–0.76 ms
        // at gossipsub's D = 6 with floodPublish (docs/scaling.md §5). D_hi stays at 12 so that a
        // young network's star around its bootstrap node is served by the hub's mesh: at D_hi 5
        // the hub pruned its leaves (which then wait out the 60 s prune backoff on gossip alone)
        // and 10 nodes certified in 4.5 s instead of 1.4 s.
        // Fewer copies is less redundancy: a node missing a message gets it from IHAVE gossip
        // (to D_lazy = 6 peers outside the mesh each heartbeat) or from sync (§3 of the protocol).
        D: 3,
        Dlo: 2,
        Dhi: 12,
        Dout: 1,
        floodPublish: false,
        // IDONTWANT (gossipsub v1.2) saves a large message's duplicates. walras's are under 1 KB
        // and (measured at D = 6 with floodPublish) most peers held the publisher's own copy
        // before a mesh peer's IDONTWANT arrived, so it cost a control message per mesh peer per
        // message and saved little: without it 25 nodes in one process used 2.3 instead of 3.0 ms
        // of CPU per accepted message. Above the largest message: never sent.
        idontwantMinDataSize: MAX_MESSAGE_BYTES + 1,
        scoreParams: {
          IPColocationFactorWhitelist: new Set([...LOOPBACK, ...(init.ipColocationWhitelist ?? [])]),
        },
      }),
    },
  });
  const pruner = startDiscoveredPeerPruner(libp2p, init.peerStorePruning ?? PEER_STORE_PRUNING, {
    protectedPeers: new Set(withPeerId.flatMap((a) => peerIdStringOf(multiaddr(a)) ?? [])),
    ...(init.logger !== undefined ? { logger: init.logger } : {}),
  });
  const validator = startDiscoveryValidator(libp2p.services.pubsub, {
    onAccepted: (announcement) => pruner.announced(announcement.peerId),
    ...(init.logger !== undefined ? { logger: init.logger } : {}),
    ...(init.metricsRegistry !== undefined ? { metricsRegistry: init.metricsRegistry } : {}),
  });
  try {
    await libp2p.start();
  } catch (err) {
    pruner.stop();
    validator.stop();
    throw err;
  }
  const discovery = startDiscoveryDialer(libp2p, init.discoveryDials ?? DISCOVERY_DIALS, init.logger);
  let dialer: BootstrapDialer | undefined;
  let exchange: PeerExchange | undefined;
  try {
    exchange = await startPeerExchange(libp2p, {
      shortOfPeers: discovery.shortOfPeers,
      ...init.peerExchange,
      onPeers: (peers) => discovery.offer(peers.map((p) => p.id)),
      ...(init.logger !== undefined ? { logger: init.logger } : {}),
      ...(init.metricsRegistry !== undefined ? { metricsRegistry: init.metricsRegistry } : {}),
    });
    dialer = startBootstrapDialer(libp2p, bootstrapAddrs, {
      initialBackoffMs: init.bootstrapBackoffMs?.initial,
      maxBackoffMs: init.bootstrapBackoffMs?.max,
      logger: init.logger,
      ...(init.onBootstrapConnected
        ? {
            onConnected: (peer: PeerId, address: string) =>
              init.onBootstrapConnected?.(libp2p, peer, address),
          }
        : {}),
    });
  } catch (err) {
    discovery.stop();
    pruner.stop();
    validator.stop();
    await exchange?.stop();
    await libp2p.stop();
    throw err;
  }
  const started = dialer;
  const exchanging = exchange;
  return {
    libp2p,
    bootstrapped: started.allConnected,
    stop: async () => {
      started.stop();
      discovery.stop();
      pruner.stop();
      await exchanging.stop();
      // Closed before the router leaves its topics: leaving them while connected sends each mesh
      // peer a PRUNE with gossipsub's 10 s unsubscribe backoff, and a node restarted within it is
      // penalised for its first GRAFT (P7, one count a topic, squared times -10: -160 for the
      // contract's three and discovery, past the graylist) and kept out of that peer's mesh for a
      // minute. A closed connection only drops the node from the meshes (docs/security.md §5).
      await Promise.all(libp2p.getPeers().map((peer) => libp2p.hangUp(peer)));
      await libp2p.stop();
      validator.stop();
    },
  };
}

function parseAddress(text: string, role: string): Multiaddr {
  try {
    return multiaddr(text);
  } catch (err) {
    throw new Error(
      `${role} address "${text}" is not a multiaddr: ${err instanceof Error ? err.message : err}`,
    );
  }
}
