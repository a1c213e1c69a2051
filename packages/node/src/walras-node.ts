import { join } from "node:path";
import {
  type AgentMachine,
  type AgentProfile,
  type Certificate,
  type Contract,
  canonicalJson,
  contractId,
  createAgentMachine,
  createSigner,
  decodeMessage,
  encodeMessage,
  kindsOf,
  type MachineAction,
  type MessageKind,
  messageDigest,
  type SyncWant,
  type Topic,
  topicOf,
  type WireMessage,
} from "@walras/protocol";
import type { Logger } from "pino";
import { type StatusServer, startStatusServer } from "./http/status-server.ts";
import { loadOrCreateKey } from "./identity/key-file.ts";
import { componentLogger, createLogger } from "./logging/logger.ts";
import { createNodeMetrics, type NodeMetrics } from "./metrics/node-metrics.ts";
import { createGossip, type Gossip } from "./network/gossip.ts";
import type { GossipKind } from "./network/gossip-topics.ts";
import { createHost, type Host, type HostInit } from "./network/host.ts";
import type { SyncRequest, SyncResponse } from "./network/sync-messages.ts";
import { handleSync, requestSync } from "./network/sync-protocol.ts";
import { type NodeStatus, nodeStatus } from "./node-status.ts";
import { createPeerRateLimiter } from "./peer-rate-limiter.ts";
import { openStore, type Store } from "./store/store.ts";

export interface WalrasNodeInit {
  readonly contract: Contract;
  /** The agent this node runs. Without one the node is an observer: it follows and verifies. */
  readonly agent?: AgentProfile;
  readonly dataDir: string;
  /** Defaults to `<dataDir>/node.key`. */
  readonly keyFile?: string;
  readonly listen?: string[];
  readonly bootstrap?: string[];
  readonly http?: { readonly port: number; readonly host?: string };
  readonly logger?: Logger;
  /** How often timeouts are checked. */
  readonly tickMs?: number;
  /**
   * Fault injection for tests: the fraction of inbound gossip dropped before validation, as if
   * lost between peers. Catch-up then goes over the sync protocol.
   */
  readonly inboundLoss?: number;
  /** Gossip messages one peer may forward per second before it is throttled (rejected). */
  readonly peerRateLimit?: number;
  /** Passed to the libp2p host (fault tests partition nodes with a deny-list). */
  readonly connectionGater?: HostInit["connectionGater"];
}

export interface WalrasNode {
  readonly peerId: string;
  readonly contractId: string;
  readonly host: Host;
  multiaddrs(): string[];
  status(): NodeStatus;
  certificate(): Certificate | null;
  /** Called with every action the protocol machine takes (progress displays, tests). */
  onAction(listener: (action: MachineAction) => void): () => void;
  /** Called with every message accepted from the network, in the order this node applied them. */
  onMessage(listener: (message: WireMessage) => void): () => void;
  readonly metrics: NodeMetrics;
  /** The gossipsub score this node gives a peer: negative once it forwarded rejected messages. */
  peerScore(peerId: string): number;
  readonly httpUrl: string | null;
  /** Stops the node. `leave` (default true) first announces a graceful leave to the others. */
  stop(options?: { leave?: boolean }): Promise<void>;
}

/** How many peers a catch-up request goes to. */
const SYNC_FANOUT = 2;
const SYNC_TIMEOUT_MS = 3_000;

export class DataDirError extends Error {}

/**
 * Starts a walras node: the I/O shell around the protocol machine. It feeds the machine
 * validated gossip, sync replies and clock ticks, and carries out what the machine decides —
 * storing every message before it is gossiped or acted on, so a restart replays to the same state.
 */
export async function startWalrasNode(init: WalrasNodeInit): Promise<WalrasNode> {
  const log = init.logger ?? createLogger();
  const id = contractId(init.contract);
  const store = openStore(init.dataDir);
  try {
    claimDataDir(store, init.dataDir, id, init.contract);
  } catch (err) {
    store.close();
    throw err;
  }
  const key = await loadOrCreateKey(init.keyFile ?? join(init.dataDir, "node.key"));
  const signer = createSigner(key.privateKey.raw);
  const peerId = key.peerId.toString();
  if (signer.id !== peerId)
    throw new Error(`key file: derived agent id ${signer.id} differs from peer id ${peerId}`);
  const nodeLog = log.child({ node: peerId.slice(-8) });
  if (key.permissionsTooOpen)
    nodeLog.warn({ keyFile: init.keyFile }, "key file is readable by others; chmod 600 it");

  const metrics = createNodeMetrics();
  const host = await createHost({
    privateKey: key.privateKey,
    listen: init.listen ?? ["/ip4/0.0.0.0/tcp/0"],
    bootstrap: init.bootstrap ?? [],
    metricsRegistry: metrics.registry,
    logger: componentLogger(nodeLog, "host"),
    ...(init.connectionGater ? { connectionGater: init.connectionGater } : {}),
  });
  const libp2p = host.libp2p;
  const machine: AgentMachine = createAgentMachine({
    contract: init.contract,
    ...(init.agent ? { agent: { signer, profile: init.agent } } : {}),
    now: Date.now(),
  });
  const listeners = new Set<(a: MachineAction) => void>();
  const messageListeners = new Set<(m: WireMessage) => void>();
  let epochStartedAt = Date.now();
  let stopped = false;
  let gossip: Gossip | null = null;
  const limiter = createPeerRateLimiter(init.peerRateLimit ?? 200);
  const protoLog = componentLogger(nodeLog, "protocol");

  const store_ = (m: WireMessage, durable = false): void => {
    store.putMessage(
      {
        digest: messageDigest(m),
        kind: m.kind,
        epoch: m.epoch,
        ...("round" in m ? { round: m.round } : {}),
        signer: m.agent,
        bytes: encodeMessage(m),
        receivedAt: Date.now(),
      },
      { durable },
    );
  };

  const perform = (actions: readonly MachineAction[]): void => {
    for (const a of actions) {
      for (const l of listeners) l(a);
      switch (a.type) {
        case "publish":
          // Write-ahead: a message is stored before anyone can see it, so a restart replays it
          // rather than signing a different one for its slot. Demands, votes and commits are
          // pure functions of the agreed history (Ed25519 signatures are deterministic), so one
          // lost to a power cut is re-signed bit for bit; joins and epoch proposals carry a
          // sequence number a restart cannot re-derive, so only they pay for an fsync.
          store_(
            a.message,
            a.message.kind === "join" || a.message.kind === "epoch" || a.message.kind === "leave",
          );
          publish(a.message);
          break;
        case "sync":
          void catchUp(a.want);
          break;
        case "epoch-started":
          epochStartedAt = Date.now();
          metrics.epoch.set(a.epoch);
          metrics.round.set(0);
          break;
        case "round-closed":
          metrics.rounds.inc();
          metrics.round.set(a.round + 1);
          metrics.residual.set(a.residual);
          protoLog.debug(
            { epoch: a.epoch, round: a.round, prices: a.prices, residual: a.residual },
            "round closed",
          );
          break;
        case "certificate":
          store.putCertificate(
            a.certificate.commit.epoch,
            new TextEncoder().encode(canonicalJson(a.certificate)),
          );
          if (a.certificate.signatures.length > 0)
            metrics.timeToAgreementSeconds.observe((Date.now() - epochStartedAt) / 1000);
          protoLog.info(
            {
              epoch: a.certificate.commit.epoch,
              signers: a.certificate.signatures.length,
              complete: a.complete,
            },
            "certificate",
          );
          break;
        case "dropped":
          metrics.messagesRejected.inc({ reason: a.reason });
          protoLog.warn(
            { reason: a.reason, agent: a.message.agent, kind: a.message.kind },
            "message dropped",
          );
          break;
        case "equivocation":
          protoLog.warn(
            {
              agent: a.evidence.agent,
              slot: a.evidence.slot,
              first: a.evidence.first,
              second: a.evidence.second,
            },
            "equivocation: two signed messages for one slot",
          );
          break;
        case "log":
          protoLog[a.level](a.fields ?? {}, a.msg);
          break;
      }
    }
  };

  const publish = (m: WireMessage): void => {
    if (!gossip || stopped) return;
    const bytes = encodeMessage(m);
    metrics.messagesPublished.inc({ kind: m.kind });
    metrics.messageBytes.inc({ direction: "out" }, bytes.length);
    gossip.publish(topicOf(m.kind), bytes).catch((err: Error) => {
      protoLog.debug({ err: err.message, kind: m.kind }, "publish failed (peers will sync)");
    });
  };

  /** One path for every inbound message, gossip or sync: decode, judge, count, store, apply. */
  // gossipsub hands the validator and the delivery the same bytes: decode them once.
  const judged = new WeakMap<Uint8Array, WireMessage>();
  const decodedOrNull = (bytes: Uint8Array): WireMessage | null => {
    const decoded = decodeMessage(bytes);
    return decoded.ok ? decoded.message : null;
  };

  const judge = (
    bytes: Uint8Array,
    from: string,
    topic: Topic | null,
  ): { message: WireMessage | null; verdict: "accept" | "reject" | "ignore" } => {
    const decoded = decodeMessage(bytes);
    if (!decoded.ok) {
      metrics.messagesRejected.inc({ reason: decoded.reason });
      nodeLog.warn({ peer: from, reason: decoded.reason, detail: decoded.detail }, "rejected message");
      return { message: null, verdict: "reject" };
    }
    const message = decoded.message;
    judged.set(bytes, message);
    if (topic && topicOf(message.kind) !== topic) {
      metrics.messagesRejected.inc({ reason: "wrong-topic" });
      nodeLog.warn({ peer: from, kind: message.kind, topic }, "rejected message: wrong topic");
      return { message: null, verdict: "reject" };
    }
    const v = machine.check(message);
    if (v.verdict === "accept") return { message, verdict: "accept" };
    metrics.messagesRejected.inc({ reason: v.reason });
    if (v.verdict === "reject")
      nodeLog.warn(
        { peer: from, agent: message.agent, reason: v.reason, detail: v.detail },
        "rejected message",
      );
    else nodeLog.trace({ peer: from, reason: v.reason }, "ignored message");
    // check() keeps equivocation evidence as an action; the next event hands it out.
    if (v.verdict === "reject" && v.reason === "equivocation")
      perform(machine.handle({ type: "tick", now: Date.now() }));
    return { message, verdict: v.verdict };
  };

  const apply = (message: WireMessage, bytes: Uint8Array): void => {
    metrics.messagesAccepted.inc({ kind: message.kind });
    metrics.messageBytes.inc({ direction: "in" }, bytes.length);
    store_(message);
    for (const l of messageListeners) l(message);
    perform(machine.handle({ type: "message", now: Date.now(), message }));
  };

  const catchUp = async (want: SyncWant): Promise<void> => {
    const peers = libp2p.getPeers();
    const chosen = [...peers].sort(() => Math.random() - 0.5).slice(0, SYNC_FANOUT);
    const kinds = [...new Set(want.kinds.map((k) => topicOf(k)))] as GossipKind[];
    await Promise.all(
      chosen.map(async (peer) => {
        try {
          const res = await requestSync(
            libp2p,
            peer,
            {
              type: "messages",
              contractId: id,
              epoch: want.epoch,
              ...(want.round !== undefined ? { round: want.round } : {}),
              kinds,
            },
            { timeoutMs: SYNC_TIMEOUT_MS },
          );
          for (const b64 of res.messages) {
            if (stopped) return;
            const bytes = Buffer.from(b64, "base64");
            const { message, verdict } = judge(bytes, peer.toString(), null);
            if (message && verdict === "accept" && want.kinds.includes(message.kind)) apply(message, bytes);
          }
        } catch (err) {
          nodeLog.debug({ peer: peer.toString(), err: (err as Error).message }, "sync request failed");
        }
      }),
    );
  };

  const serveSync = async (req: SyncRequest): Promise<SyncResponse> => {
    switch (req.type) {
      case "contract":
        return { contract: req.contractId === id ? init.contract : null };
      case "status":
        return { status: status() as unknown as Record<string, unknown> };
      case "messages": {
        if (req.contractId !== id) return { error: `unknown contract ${req.contractId}` };
        const kinds: MessageKind[] | undefined = req.kinds?.flatMap((t) => [...kindsOf(t)]);
        const rows = store.messages({
          epoch: req.epoch,
          ...(req.round !== undefined ? { round: req.round } : {}),
          ...(kinds ? { kinds } : {}),
        });
        return { messages: rows.slice(0, 4096).map((r) => Buffer.from(r.bytes).toString("base64")) };
      }
    }
  };

  const status = (): NodeStatus =>
    nodeStatus({
      peerId,
      contract: init.contract,
      machine: machine.status(),
      connections: libp2p.getPeers().length,
      topicPeers: gossip ? gossip.topicPeers("demand").length : 0,
      listen: libp2p.getMultiaddrs().map(String),
    });

  // Replay what this data dir already holds, in the order it was stored, before going live.
  let replayed = 0;
  for (const row of store.allMessages()) {
    const decoded = decodeMessage(row.bytes);
    if (!decoded.ok || machine.check(decoded.message).verdict !== "accept") continue;
    perform(machine.handle({ type: "message", now: Date.now(), message: decoded.message, replay: true }));
    replayed++;
  }
  if (replayed > 0) nodeLog.info({ replayed }, "resumed from store");

  await handleSync(libp2p, serveSync, {
    onError: (err) => nodeLog.debug({ err: String(err) }, "sync handler error"),
  });
  gossip = createGossip(libp2p, id, {
    validate: (kind, bytes, from) => {
      if (init.inboundLoss && Math.random() < init.inboundLoss) return "ignore";
      if (!limiter.allow(from, Date.now())) {
        metrics.messagesRejected.inc({ reason: "rate-limit" });
        if (limiter.shouldLog(from)) nodeLog.warn({ peer: from }, "peer over its message rate; rejecting");
        return "reject";
      }
      return judge(bytes, from, kind).verdict;
    },
    onMessage: (_kind, bytes) => {
      const message = judged.get(bytes) ?? decodedOrNull(bytes);
      if (message) apply(message, bytes);
    },
    onError: (err, ctx) => nodeLog.warn({ err: String(err), ...ctx }, "gossip handler error"),
  });
  const updatePeers = () => metrics.peers.set(libp2p.getPeers().length);
  libp2p.addEventListener("peer:connect", updatePeers);
  libp2p.addEventListener("peer:disconnect", updatePeers);

  let http: StatusServer | null = null;
  if (init.http) {
    http = await startStatusServer({
      port: init.http.port,
      ...(init.http.host ? { host: init.http.host } : {}),
      routes: {
        status: () => status(),
        certificate: () => machine.status().certificate ?? undefined,
        metrics: () => metrics.render(),
      },
    });
  }

  perform(machine.handle({ type: "resume", now: Date.now() }));
  const tick = setInterval(() => {
    if (stopped) return;
    // A bug surfacing in a timer would otherwise be an uncaught exception that kills the node.
    try {
      perform(machine.handle({ type: "tick", now: Date.now() }));
    } catch (err) {
      nodeLog.error({ err }, "tick failed");
    }
  }, init.tickMs ?? 100);
  nodeLog.info(
    {
      peerId,
      contract: id,
      role: init.agent ? "agent" : "observer",
      listen: libp2p.getMultiaddrs().map(String),
      http: http?.url ?? null,
    },
    "walras node started",
  );

  return {
    peerId,
    contractId: id,
    host,
    metrics,
    peerScore: (peer) => gossip?.peerScore(peer) ?? 0,
    httpUrl: http?.url ?? null,
    multiaddrs: () => libp2p.getMultiaddrs().map(String),
    status,
    certificate: () => machine.status().certificate,
    onAction: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onMessage: (listener) => {
      messageListeners.add(listener);
      return () => messageListeners.delete(listener);
    },
    stop: async ({ leave = true } = {}) => {
      if (stopped) return;
      if (leave && gossip) {
        const leaving = machine.handle({ type: "leave", now: Date.now() });
        for (const a of leaving) {
          if (a.type !== "publish") continue;
          store_(a.message, true);
          await gossip.publish(topicOf(a.message.kind), encodeMessage(a.message)).catch(() => undefined);
        }
      }
      stopped = true;
      clearInterval(tick);
      libp2p.removeEventListener("peer:connect", updatePeers);
      libp2p.removeEventListener("peer:disconnect", updatePeers);
      gossip?.stop();
      await http?.close();
      await host.stop();
      store.close();
      nodeLog.info("walras node stopped");
    },
  };
}

/** One data dir serves one contract: mixing two would replay one market's messages into another. */
function claimDataDir(store: Store, dir: string, id: string, contract: Contract): void {
  const claimed = store.loadState("contractId") as string | undefined;
  if (claimed && claimed !== id)
    throw new DataDirError(
      `${dir}: data dir belongs to contract ${claimed}, not ${id}; use another --data-dir`,
    );
  store.putContract(id, canonicalJson(contract));
  store.saveState("contractId", id);
}
