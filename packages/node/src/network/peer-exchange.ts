import type { Libp2p, PeerId, Stream } from "@libp2p/interface";
import { peerIdFromString } from "@libp2p/peer-id";
import { lpStream } from "@libp2p/utils";
import { type Multiaddr, multiaddr } from "@multiformats/multiaddr";
import type { Logger } from "pino";
import { Counter, type Registry } from "prom-client";
import { z } from "zod";
import { connectedPeerIds, connectedPeers } from "./connected-peers.ts";
import { parseJsonBody } from "./json-body.ts";

export const PEER_EXCHANGE_PROTOCOL = "/walras/peer-exchange/1.0.0";
/** Peers in one answer: more than a node dials (12), so an answer alone can fill it. */
export const MAX_EXCHANGED_PEERS = 16;
const MAX_ADDRS_PER_PEER = 8;
const MAX_ANSWER_BYTES = 16 * 1024;
/** One answer per asking peer in this time: a peer that reopens the stream gets it aborted. */
const ANSWER_INTERVAL_MS = 10_000;
const EXCHANGE_TIMEOUT_MS = 10_000;

const answerSchema = z.object({
  peers: z
    .array(
      z.object({
        id: z.string().max(128),
        addrs: z.array(z.string().max(256)).max(MAX_ADDRS_PER_PEER),
      }),
    )
    .max(MAX_EXCHANGED_PEERS),
});

export interface ExchangedPeer {
  readonly id: PeerId;
  readonly addrs: readonly Multiaddr[];
}

export type PeerExchangeOutcome = "served" | "refused" | "received" | "invalid" | "failed";

export interface PeerExchangeInit {
  /** Whether this node is short of peers: checked every `intervalMs`, and one peer asked if so. */
  shortOfPeers(): boolean;
  /** When this node first checks, after it starts. Default 10 s. */
  firstAfterMs?: number;
  /** Default 2 s. */
  intervalMs?: number;
  /** Peers an answer named, already in the peer store with their addresses. */
  onPeers(peers: readonly ExchangedPeer[]): void;
  logger?: Logger;
  /** Counts exchanges by outcome as `walras_peer_exchange_total`. */
  metricsRegistry?: Registry;
}

export interface PeerExchange {
  stop(): Promise<void>;
}

/**
 * Peer exchange, as gossipsub's PX does it: a node short of peers asks one of its peers, every
 * `intervalMs`, for the peers that one is connected to. Discovery by announcement alone left
 * stragglers: an announcement is sent once (repeats are the same bytes, so gossip drops them as
 * duplicates), and a node that connected after the others announced never heard of them: in a
 * 50-node run 2–3 nodes kept their bootstrap link alone for the whole run, and the market waited
 * on them (docs/scaling.md §5).
 *
 * It repairs; it does not build the mesh. Asking every peer at connect time made each of 50 nodes
 * in one process dial 12 at once: the mesh (every node with a topic peer) took 21–24 s instead of
 * 2–5. Asking from 2 s on, while short of 6, still took 3–14 s: announcements go out only at the
 * discovery interval (5 s), so at 2 s every node was short. So a node first asks 10 s after it
 * starts, when announcements have had their turn.
 *
 * An exchange is one stream: the asker opens it, the answerer writes one length-prefixed JSON
 * `{peers: [{id, addrs}]}` (at most 16 of its connected peers, at random) and closes it.
 */
export async function startPeerExchange(libp2p: Libp2p, init: PeerExchangeInit): Promise<PeerExchange> {
  const self = libp2p.peerId.toString();
  const asked = new Set<string>();
  const lastAnswered = new Map<string, number>();
  const exchanges = init.metricsRegistry
    ? new Counter({
        name: "walras_peer_exchange_total",
        help: "Peer exchanges, by outcome: served, refused (asked again too soon), received, invalid (a malformed answer), failed",
        labelNames: ["outcome"],
        registers: [init.metricsRegistry],
      })
    : undefined;
  const count = (outcome: PeerExchangeOutcome) => exchanges?.inc({ outcome });

  await libp2p.handle(
    PEER_EXCHANGE_PROTOCOL,
    async (stream, connection) => {
      const from = connection.remotePeer.toString();
      const now = Date.now();
      if (now - (lastAnswered.get(from) ?? Number.NEGATIVE_INFINITY) < ANSWER_INTERVAL_MS) {
        count("refused");
        init.logger?.debug({ peer: from }, "peer exchange refused: asked again too soon");
        stream.abort(new Error("refused: one peer exchange per 10 s"));
        return;
      }
      if (lastAnswered.size >= 1024)
        for (const [peer, at] of lastAnswered) if (now - at >= ANSWER_INTERVAL_MS) lastAnswered.delete(peer);
      lastAnswered.set(from, now);
      try {
        await answer(libp2p, stream, from);
        count("served");
      } catch (err) {
        count("failed");
        stream.abort(err instanceof Error ? err : new Error(String(err)));
      }
    },
    { maxInboundStreams: 1 },
  );

  const ask = async (peer: PeerId) => {
    const signal = AbortSignal.timeout(EXCHANGE_TIMEOUT_MS);
    let stream: Stream | undefined;
    let raw: Uint8Array;
    try {
      stream = await libp2p.dialProtocol(peer, PEER_EXCHANGE_PROTOCOL, { signal });
      raw = (await lpStream(stream, { maxDataLength: MAX_ANSWER_BYTES }).read({ signal })).subarray();
      await stream.close({ signal });
    } catch (err) {
      stream?.abort(err instanceof Error ? err : new Error(String(err)));
      count("failed");
      init.logger?.debug({ peer: peer.toString(), err: String(err) }, "peer exchange failed");
      return;
    }
    const parsed = parseAnswer(raw, self);
    if (!parsed.ok) {
      count("invalid");
      init.logger?.warn({ peer: peer.toString(), reason: parsed.error }, "peer exchange answer rejected");
      return;
    }
    count("received");
    for (const p of parsed.peers) await libp2p.peerStore.merge(p.id, { multiaddrs: [...p.addrs] });
    init.onPeers(parsed.peers);
  };
  let asking = false;
  const repair = async () => {
    if (asking || !init.shortOfPeers()) return;
    // A peer not asked yet (a node answers with a random subset, so asking again can pay too).
    const peers = connectedPeers(libp2p);
    const fresh = peers.filter((p) => !asked.has(p.toString()));
    const pool = fresh.length > 0 ? fresh : peers;
    const peer = pool[Math.floor(Math.random() * pool.length)];
    if (!peer) return;
    if (fresh.length === 0) asked.clear();
    asked.add(peer.toString());
    asking = true;
    try {
      // An older node without the protocol is not asked.
      const protocols = (await libp2p.peerStore.get(peer).catch(() => null))?.protocols ?? [];
      if (protocols.includes(PEER_EXCHANGE_PROTOCOL)) await ask(peer);
    } finally {
      asking = false;
    }
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = (afterMs: number) => {
    timer = setTimeout(() => {
      void repair();
      tick(init.intervalMs ?? 2_000);
    }, afterMs);
    timer.unref();
  };
  tick(init.firstAfterMs ?? 10_000);
  return {
    stop: async () => {
      clearTimeout(timer);
      await libp2p.unhandle(PEER_EXCHANGE_PROTOCOL);
    },
  };
}

/** Writes up to 16 of this node's connected peers, other than the asker, with their addresses. */
async function answer(libp2p: Libp2p, stream: Stream, asker: string): Promise<void> {
  const candidates = connectedPeerIds(libp2p).filter((p) => p !== asker);
  shuffle(candidates);
  const peers: { id: string; addrs: string[] }[] = [];
  for (const id of candidates) {
    if (peers.length >= MAX_EXCHANGED_PEERS) break;
    const known = await libp2p.peerStore.get(peerIdFromString(id)).catch(() => null);
    const addrs = (known?.addresses ?? []).slice(0, MAX_ADDRS_PER_PEER).map((a) => a.multiaddr.toString());
    // An inbound peer not yet identified has no address another node could dial.
    if (addrs.length > 0) peers.push({ id, addrs });
  }
  const signal = AbortSignal.timeout(EXCHANGE_TIMEOUT_MS);
  await lpStream(stream).write(new TextEncoder().encode(JSON.stringify({ peers })), { signal });
  await stream.close({ signal });
}

/** Validates an answer; the one-line reason on failure. Entries naming the asker are dropped. */
export function parseAnswer(
  bytes: Uint8Array,
  self: string,
): { ok: true; peers: ExchangedPeer[] } | { ok: false; error: string } {
  const parsed = parseJsonBody(bytes, answerSchema, "answer");
  if (!parsed.ok) return parsed;
  const peers: ExchangedPeer[] = [];
  for (const [i, p] of parsed.value.peers.entries()) {
    try {
      if (p.id === self) continue;
      peers.push({ id: peerIdFromString(p.id), addrs: p.addrs.map((a) => multiaddr(a)) });
    } catch (err) {
      return {
        ok: false,
        error: `invalid answer at peers.${i}: ${err instanceof Error ? err.message : err}`,
      };
    }
  }
  return { ok: true, peers };
}

function shuffle<T>(items: T[]): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
}
