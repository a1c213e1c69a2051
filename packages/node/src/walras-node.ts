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
  DECISIONS_PER_SYNC,
  type Demand,
  decisionsFrom,
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
import { createMarketHistory } from "./history/market-history.ts";
import { loadOrCreateApiToken } from "./http/api-token.ts";
import { dashboardRoutes } from "./http/dashboard/dashboard-routes.ts";
import { type MarketApiSource, marketApiRoutes } from "./http/market-api.ts";
import { type StatusServer, startStatusServer } from "./http/status-server.ts";
import { loadOrCreateKey } from "./identity/key-file.ts";
import { LedgerBook } from "./ledger/ledger-book.ts";
import { createLedgerSync, ledgerPage } from "./ledger/ledger-sync.ts";
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
  /**
   * This node founds the market's first epoch (docs/protocol.md §9). Default: it does when it has
   * no bootstrap peers, i.e. it is the first node of a new network; every other node joins.
   */
  readonly founder?: boolean;
  readonly http?: { readonly port: number; readonly host?: string };
  readonly logger?: Logger;
  /** How often timeouts are checked. */
  readonly tickMs?: number;
  /**
   * Fault injection for tests: the fraction of inbound gossip dropped before validation, as if
   * lost between peers. Catch-up then goes over the sync protocol.
   */
  readonly inboundLoss?: number;
  /**
   * FAULT INJECTION, for tests only: rewrites this node's own demand before it is signed (a lying
   * member, docs/security.md §2). See AgentMachineConfig.
   */
  readonly misreport?: (demand: Demand, round: number) => Demand;
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
/**
 * Own messages whose content a restart could not re-derive: sequence numbers, and the promises and
 * accepts of an epoch decision (Paxos is safe only if an acceptor never forgets them). They are
 * fsynced before they are published; demands and commits are pure functions of agreed history.
 */
const DURABLE_KINDS: ReadonlySet<MessageKind> = new Set(["join", "leave", "propose", "accept", "view"]);
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
  const apiToken = loadOrCreateApiToken(init.dataDir);
  const ledgerBook = new LedgerBook(store, init.contract);
  // A bid changed through the API outlives a restart, unless the operator changed the agent file.
  const startProfile = init.agent ? currentProfile(store, init.agent) : null;
  const machine: AgentMachine = createAgentMachine({
    contract: init.contract,
    signer,
    ...(startProfile ? { profile: startProfile } : {}),
    founder: init.founder ?? (init.bootstrap ?? []).length === 0,
    ...(init.misreport ? { misreport: init.misreport } : {}),
    now: Date.now(),
  });
  const listeners = new Set<(a: MachineAction) => void>();
  const messageListeners = new Set<(m: WireMessage) => void>();
  // Before the replay, so the dashboard's price path reaches back as far as the store does.
  const history = createMarketHistory();
  listeners.add(history.record);
  let epochStartedAt = Date.now();
  let stopped = false;
  const leftWaiters = new Set<() => void>();
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
          store_(a.message, DURABLE_KINDS.has(a.message.kind));
          publish(a.message);
          break;
        case "sync":
          void catchUp(a.want);
          break;
        case "left":
          for (const resolve of leftWaiters) resolve();
          leftWaiters.clear();
          break;
        case "epoch-started":
          epochStartedAt = Date.now();
          metrics.epoch.set(a.epoch);
          metrics.round.set(0);
          // Why this slot opened (a bid, the period, an amendment, a member): for `walras devnet`.
          protoLog.debug(
            { epoch: a.epoch, members: a.members.length, cause: a.plan.cause },
            "epoch plan adopted",
          );
          // The plan links to a certificate this node never saw: it missed part of the ledger.
          if (a.plan.ledger !== null && !ledgerBook.has(a.plan.ledger)) void catchUpLedger();
          break;
        case "terms-changed":
          if (a.evidence)
            ledgerBook.addAmendment(contractId(a.terms), {
              terms: a.terms,
              signatures: a.evidence.filter((m) => m.kind === "amend" || m.kind === "approve"),
            });
          else void catchUpLedger();
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
          ledgerBook.addCertificate(a.certificate);
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
    gossip.publish(topicOf(m.kind), encodeMessage(m)).catch((err: Error) => {
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

  const apply = (message: WireMessage): void => {
    metrics.messagesAccepted.inc({ kind: message.kind });
    store_(message);
    for (const l of messageListeners) l(message);
    perform(machine.handle({ type: "message", now: Date.now(), message }));
  };

  const catchUp = async (want: SyncWant): Promise<void> => {
    const peers = [...libp2p.getPeers()].sort(() => Math.random() - 0.5);
    // The agents whose messages are missing hold them for sure: ask their nodes first.
    const owners = new Set<string>(want.type === "messages" ? (want.from ?? []) : []);
    const preferred = peers.filter((p) => owners.has(p.toString())).slice(0, SYNC_FANOUT + 1);
    const others = peers.filter((p) => !owners.has(p.toString()));
    const chosen = [...preferred, ...others.slice(0, Math.max(1, SYNC_FANOUT - preferred.length))];
    const request: SyncRequest =
      want.type === "decision"
        ? { type: "decision", contractId: id, ...(want.epoch !== null ? { epoch: want.epoch } : {}) }
        : {
            type: "messages",
            contractId: id,
            epoch: want.epoch,
            ...(want.round !== undefined ? { round: want.round } : {}),
            kinds: [...new Set(want.kinds.map((k) => topicOf(k)))] as GossipKind[],
          };
    const wanted = (kind: MessageKind) => want.type === "decision" || want.kinds.includes(kind);
    await Promise.all(
      chosen.map(async (peer) => {
        try {
          const res = await requestSync(libp2p, peer, request, { timeoutMs: SYNC_TIMEOUT_MS });
          if (!("messages" in res)) return;
          for (const b64 of res.messages) {
            if (stopped) return;
            const { message, verdict } = judge(Buffer.from(b64, "base64"), peer.toString(), null);
            if (message && verdict === "accept" && wanted(message.kind)) apply(message);
          }
        } catch (err) {
          nodeLog.debug({ peer: peer.toString(), err: (err as Error).message }, "sync request failed");
        }
      }),
    );
  };

  // The ledger this node missed (a restart, a late join), from a peer, a page at a time.
  const ledgerSync = createLedgerSync(ledgerBook, async (after) => {
    const peers = libp2p.getPeers();
    const peer = peers[Math.floor(Math.random() * peers.length)];
    if (!peer) return { entries: [], more: false };
    return requestSync(
      libp2p,
      peer,
      { type: "ledger", contractId: id, ...(after ? { after } : {}) },
      { timeoutMs: SYNC_TIMEOUT_MS },
    );
  });
  const catchUpLedger = async (): Promise<void> => {
    try {
      const { added, error } = await ledgerSync.sync();
      if (error) nodeLog.warn({ error }, "ledger from a peer did not verify; kept none of it");
      else if (added > 0) nodeLog.info({ added }, "ledger caught up");
    } catch (err) {
      nodeLog.debug({ err: (err as Error).message }, "ledger catch-up failed");
    }
  };

  let profile = startProfile;
  const marketApi: MarketApiSource = {
    token: apiToken,
    contract: init.contract,
    profile: () => profile,
    updateProfile: (next) => {
      profile = next;
      if (init.agent) saveProfile(store, init.agent, next);
      perform(machine.handle({ type: "profile", now: Date.now(), profile: next }));
    },
    terms: () => machine.terms(),
    amendmentProblem: (terms) => machine.amendmentProblem(terms),
    amend: (terms) => perform(machine.handle({ type: "amend", now: Date.now(), terms })),
    approve: (amendment) => {
      if (!machine.status().member || !machine.amendments().some((a) => a.id === amendment)) return false;
      perform(machine.handle({ type: "approve", now: Date.now(), amendment }));
      return true;
    },
    amendments: () => machine.amendments(),
    ledger: () => ledgerBook.ledger(),
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
      case "ledger": {
        if (req.contractId !== id) return { error: `unknown contract ${req.contractId}` };
        return ledgerPage(ledgerBook, req.after);
      }
      case "decision": {
        if (req.contractId !== id) return { error: `unknown contract ${req.contractId}` };
        if (req.epoch === undefined) {
          const evidence = machine.decisionEvidence(null) ?? [];
          return { messages: evidence.map((m) => Buffer.from(encodeMessage(m)).toString("base64")) };
        }
        const rows = [];
        for (let e = req.epoch; e < req.epoch + DECISIONS_PER_SYNC; e++)
          rows.push(...store.messages({ epoch: e, kinds: ["propose", "accept"] }));
        return {
          messages: decisionsFrom(rows, req.epoch).map((r) => Buffer.from(r.bytes).toString("base64")),
        };
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
      if (message) apply(message);
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
      api: { token: apiToken, routes: marketApiRoutes(marketApi) },
      pages: dashboardRoutes({
        contract: init.contract,
        history,
        metrics,
        status,
        connectedPeers: () => libp2p.getPeers().map(String),
        onError: (err) => nodeLog.warn({ err }, "dashboard frame failed"),
      }),
    });
  }

  perform(machine.handle({ type: "resume", now: Date.now() }));
  void catchUpLedger();
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
        // A graceful leave stays to help decide the epoch without it (its accept may be the one
        // that makes a majority), then goes: at most two round timeouts.
        const left = new Promise<void>((resolve) => leftWaiters.add(resolve));
        perform(machine.handle({ type: "leave", now: Date.now() }));
        const grace = 2 * init.contract.timeouts.roundMs + 1_000;
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([left, new Promise<void>((r) => (timer = setTimeout(r, grace)))]);
        clearTimeout(timer);
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

/** Where an API-changed bid is kept, with the agent file's profile it replaced. */
const PROFILE_KEY = "profile";

/** The bid to start with: one changed through the API, unless the agent file changed since. */
function currentProfile(store: Store, fromFile: AgentProfile): AgentProfile {
  const saved = store.loadState(PROFILE_KEY) as { from: string; current: AgentProfile } | undefined;
  return saved && saved.from === canonicalJson(fromFile) ? saved.current : fromFile;
}

function saveProfile(store: Store, fromFile: AgentProfile, current: AgentProfile): void {
  store.saveState(PROFILE_KEY, { from: canonicalJson(fromFile), current });
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
