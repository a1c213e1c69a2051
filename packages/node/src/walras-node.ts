import { join } from "node:path";
import {
  type AgentId,
  type AgentMachine,
  type AgentProfile,
  asAgentId,
  type Certificate,
  type Contract,
  canonicalJson,
  commitReference,
  contractId,
  createAgentMachine,
  createSigner,
  type Demand,
  encodeCommitReference,
  floodsOnPublish,
  leaveStayMs,
  type MachineAction,
  topicOf,
  type WireMessage,
} from "@walras/protocol";
import type { Logger } from "pino";
import { createActionExecutor, storedMessage } from "./actions/action-executor.ts";
import { createMachineDriver } from "./driver/machine-driver.ts";
import { createMarketHistory } from "./history/market-history.ts";
import { loadOrCreateApiToken } from "./http/api-token.ts";
import { dashboardRoutes } from "./http/dashboard/dashboard-routes.ts";
import { type HttpLimits, httpLimits } from "./http/http-limits.ts";
import { createHttpRefusals } from "./http/http-refusals.ts";
import { type MarketApiSource, marketApiRoutes } from "./http/market-api.ts";
import { type StatusServer, startStatusServer } from "./http/status-server.ts";
import { checkAllowlisted } from "./identity/allowlist.ts";
import { loadOrCreateKey } from "./identity/key-file.ts";
import { createInboundPipeline } from "./inbound/inbound-pipeline.ts";
import { createPeerRateLimiter } from "./inbound/peer-rate-limiter.ts";
import { replayStore } from "./inbound/replay.ts";
import { LedgerBook } from "./ledger/ledger-book.ts";
import { createLedgerCatchUp } from "./ledger/ledger-catch-up.ts";
import { createLedgerSync, ledgerPage } from "./ledger/ledger-sync.ts";
import { componentLogger, createLogger } from "./logging/logger.ts";
import { storeFailureLog } from "./logging/store-failure-log.ts";
import { createNodeMetrics, type NodeMetrics } from "./metrics/node-metrics.ts";
import { checkBootstrapContract } from "./network/bootstrap-contract-check.ts";
import { connectedPeerCount, connectedPeerIds } from "./network/connected-peers.ts";
import { createGossip, type Gossip } from "./network/gossip.ts";
import { createHost, type Host, type HostInit } from "./network/host.ts";
import { createSyncPeer } from "./network/sync-peer.ts";
import { type NodeStatus, nodeStatus } from "./node-status.ts";
import { ListenError, libp2pListenError } from "./start/listen-error.ts";
import { createUndoStack, type UndoStack } from "./start/undo-stack.ts";
import { loadBidRecord } from "./store/bid-record.ts";
import { loadConvictions, recordConviction } from "./store/conviction-record.ts";
import { DataDirError } from "./store/data-dir-error.ts";
import { lockDataDir } from "./store/data-dir-lock.ts";
import { createMessageWriter } from "./store/message-writer.ts";
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
  readonly http?: {
    readonly port: number;
    readonly host?: string;
    /** Connection cap, timeouts, /events streams and body size (defaults in http/http-limits.ts). */
    readonly limits?: Partial<HttpLimits>;
  };
  readonly logger?: Logger;
  /** Machine deadlines closer together than this are served by one tick. Default 5 ms. */
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
  readonly misreport?: (demand: Demand, round: number, unitPrice: number) => Demand;
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

export { DataDirError };

/**
 * Starts a walras node: the I/O shell around the protocol machine. It feeds the machine
 * validated gossip, sync replies and clock ticks, and carries out what the machine decides —
 * storing every message before it is gossiped or acted on, so a restart replays to the same state.
 * A start that fails part-way releases what it had acquired before it throws.
 */
export async function startWalrasNode(init: WalrasNodeInit): Promise<WalrasNode> {
  const log = init.logger ?? createLogger();
  const undo = createUndoStack();
  try {
    return await assembleNode(init, log, undo);
  } catch (err) {
    await undo.unwind(log);
    throw err;
  }
}

async function assembleNode(init: WalrasNodeInit, log: Logger, undo: UndoStack): Promise<WalrasNode> {
  // Checked before anything is acquired: a limit that cannot be used stops the start at once.
  const limits = init.http ? httpLimits(init.http.limits) : null;
  const id = contractId(init.contract);
  const lock = lockDataDir(init.dataDir);
  undo.push("lock", () => lock.release());
  if (lock.permissionsTooOpen)
    log.warn(
      { dataDir: init.dataDir },
      "data dir is open to group or others (its store holds the bid); chmod 700 it",
    );
  const store = openStore(init.dataDir);
  undo.push("store", () => store.close());
  claimDataDir(store, init.dataDir, id, init.contract);
  const keyFile = init.keyFile ?? join(init.dataDir, "node.key");
  const key = await loadOrCreateKey(keyFile);
  const signer = createSigner(key.privateKey.raw);
  const peerId = key.peerId.toString();
  if (signer.id !== peerId)
    throw new Error(`key file: derived agent id ${signer.id} differs from peer id ${peerId}`);
  if (init.agent) checkAllowlisted(init.contract, peerId);
  const nodeLog = log.child({ node: peerId.slice(-8) });
  if (key.permissionsTooOpen) nodeLog.warn({ keyFile }, "key file is readable by others; chmod 600 it");
  // A node whose store was lost restarts with no memory of what it signed: the operator should know.
  if (store.foundEmpty)
    nodeLog.warn(
      { store: store.path, ...(key.created ? {} : { keyFile }) },
      key.created
        ? "store file was empty; opened as a new store"
        : "store file was empty beside an existing key: this node restarts with no record of what it signed",
    );
  const loaded = loadOrCreateApiToken(init.dataDir);
  const apiToken = loaded.token;
  if (loaded.permissionsTooOpen)
    nodeLog.warn({ tokenFile: loaded.file }, "API token file is readable by others; chmod 600 it");

  const now = () => Date.now();
  const writeFailed = storeFailureLog(nodeLog, now);
  const writer = createMessageWriter(store, {
    onError: (err) =>
      writeFailed(
        { err: (err as Error).message },
        "store write failed; the batch stays in memory and is tried again, backing off",
      ),
    now,
  });
  // After the host (pushed before it, so run after): what arrived until the hang-up is stored.
  undo.push("writer", () => {
    writer.stop();
    try {
      writer.flush();
    } catch (err) {
      // A full disk must not keep the store open and the lock held: what was received since the
      // last batch is lost, and peers still hold it for sync.
      nodeLog.error(
        { err: (err as Error).message },
        "store write failed at stop; the last batch is not stored",
      );
    }
  });
  let gossip: Gossip | null = null;
  // Gossip stops after the host, so that the node leaves its topics by closing connections, not by
  // unsubscribing while connected (host.ts: that would cost it its peers' meshes on restart).
  undo.push("gossip", () => gossip?.stop());

  const metrics = createNodeMetrics();
  // Each bootstrap address's node, once connected, is trusted for the first epoch as its answer
  // would be (the protocol's machine/bootstrap-peers.ts). The host starts dialling before the
  // driver below exists; nothing awaits in between today, but a connection reported meanwhile is
  // held for the driver rather than lost should that change.
  const bootstrapPeers: AgentId[] = [];
  let trustBootstrap = (peer: AgentId): void => void bootstrapPeers.push(peer);
  let host: Host;
  try {
    host = await createHost({
      privateKey: key.privateKey,
      listen: init.listen ?? ["/ip4/0.0.0.0/tcp/0"],
      bootstrap: init.bootstrap ?? [],
      metricsRegistry: metrics.registry,
      logger: componentLogger(nodeLog, "host"),
      ...(init.connectionGater ? { connectionGater: init.connectionGater } : {}),
      onBootstrapConnected: (libp2p, peer, address) => {
        trustBootstrap(asAgentId(peer.toString()));
        void checkBootstrapContract(libp2p, peer, address, id, nodeLog);
      },
    });
  } catch (err) {
    throw libp2pListenError(err) ?? err;
  }
  undo.push("host", () => host.stop());
  const libp2p = host.libp2p;
  const ledgerBook = new LedgerBook(store, init.contract, nodeLog);
  // A bid changed through the API outlives a restart; the replayed epoch runs with the bid it
  // started with (store/bid-record.ts), and a changed agent file's bid applies from the next slot.
  const bidRecord = init.agent ? loadBidRecord(store, init.agent) : null;
  const machine: AgentMachine = createAgentMachine({
    contract: init.contract,
    signer,
    ...(bidRecord ? { bids: bidRecord.bids } : {}),
    founder: init.founder ?? (init.bootstrap ?? []).length === 0,
    storeLost: store.foundEmpty && !key.created,
    ...(init.misreport ? { misreport: init.misreport } : {}),
    now: Date.now(),
  });
  const listeners = new Set<(a: MachineAction) => void>();
  const messageListeners = new Set<(m: WireMessage) => void>();
  // Before the replay, so the dashboard's price path reaches back as far as the store does.
  const history = createMarketHistory();
  listeners.add(history.record);
  const protoLog = componentLogger(nodeLog, "protocol");
  let stopped = false;
  let stopping: Promise<void> | undefined;
  const leftWaiters = new Set<() => void>();

  const status = (): NodeStatus =>
    nodeStatus({
      peerId,
      contract: init.contract,
      machine: machine.status(),
      connections: connectedPeerCount(libp2p),
      topicPeers: gossip ? gossip.topicPeers("demand").length : 0,
      listen: libp2p.getMultiaddrs().map(String),
      certified: executor.certified(),
    });

  const inbound = createInboundPipeline({
    machine,
    metrics,
    log: nodeLog,
    limiter: createPeerRateLimiter(init.peerRateLimit ?? DEFAULT_PEER_RATE_LIMIT),
    ...(init.inboundLoss ? { inboundLoss: init.inboundLoss } : {}),
    accept: (message, bytes) => {
      metrics.messagesAccepted.inc({ kind: message.kind });
      metrics.messageBytes.inc({ direction: "in" }, bytes.length);
      writer.received(storedMessage(message, bytes, now()));
      for (const l of messageListeners) l(message);
      void driver.handle({ type: "message", now: now(), message });
    },
    // check() keeps equivocation evidence as an action; the next event hands it out.
    equivocation: () => void driver.handle({ type: "tick", now: now() }),
    otherBody: (epoch, agent) => void driver.handle({ type: "other-body", now: now(), epoch, agent }),
    wake: () => driver.wake(),
    now,
  });
  // Stored rows that do not decode or every node rejects (found by the replay, below): an asker
  // would blame this node for them.
  let unservable: ReadonlySet<string> = new Set();
  const sync = createSyncPeer({
    libp2p,
    contract: init.contract,
    contractId: id,
    store,
    writer,
    inbound,
    metrics,
    log: nodeLog,
    status: () => status() as unknown as Record<string, unknown>,
    currentDecision: () => ({
      decision: machine.decisionEvidence(null) ?? [],
      exclusions: machine.exclusionPlans(),
    }),
    noDecision: (peer) => void driver.handle({ type: "no-decision", now: now(), peer }),
    syncEnded: (answered, timeoutMs) =>
      void driver.handle({ type: "sync-ended", now: now(), answered, timeoutMs }),
    ledgerPage: (after) => ledgerPage(ledgerBook, after),
    penalize: (peer) => gossip?.penalize(peer),
    graylisted: (peer) => gossip?.graylisted(peer) ?? false,
    unservable: () => unservable,
    now,
  });
  // The ledger this node missed (a restart, a late join), from a peer, a page at a time.
  const ledgerSync = createLedgerSync(ledgerBook, (after) => sync.fetchLedger(after), {
    log: nodeLog,
    // The executor is built below; a page arrives only after the node has started.
    onCertificate: (certificate) => executor.caughtUp(certificate),
  });
  const ledgerCatchUp = createLedgerCatchUp(
    ledgerSync,
    nodeLog,
    (err) =>
      writeFailed(
        { err: err.message },
        "store write failed; ledger entries from a peer not kept (fetched again at the next catch-up)",
      ),
    // The driver is built below; a run ends (and wakes it) only after the node has started.
    { now, onScheduled: () => driver.wake() },
  );
  const executor = createActionExecutor({
    writer,
    ledger: ledgerBook,
    metrics,
    log: protoLog,
    listeners,
    publish: async (message, bytes) => {
      if (!gossip || stopped) return;
      // A commit is stored whole and gossiped by reference (docs/protocol.md §8).
      const gossiped = message.kind === "commit" ? encodeCommitReference(commitReference(message)) : bytes;
      await gossip
        .publish(topicOf(message.kind), gossiped, { flood: floodsOnPublish(message.kind) })
        .catch((err: Error) =>
          protoLog.debug({ err: err.message, kind: message.kind }, "publish failed (peers will sync)"),
        );
    },
    catchUp: (want) => sync.catchUp(want),
    catchUpLedger: () => void ledgerCatchUp.start(),
    ledgerCatchUp,
    keepConviction: (proof) => recordConviction(store, proof),
    left: () => {
      for (const resolve of leftWaiters) resolve();
      leftWaiters.clear();
    },
    now,
  });
  const driver = createMachineDriver({
    machine,
    executor,
    log: nodeLog,
    ...(init.tickMs !== undefined ? { minTickMs: init.tickMs } : {}),
    // Any event may settle an epoch (an epoch started on a tick closes a round on its buffered
    // demands): the commit references held for it are judged then, not at the next message.
    afterEvent: () => inbound.releaseHeld(),
    now,
  });
  undo.push("driver", () => {
    stopped = true;
    driver.stop();
  });
  trustBootstrap = (peer) => void driver.handle({ type: "bootstrap-peer", now: now(), peer });
  for (const peer of bootstrapPeers.splice(0)) trustBootstrap(peer);

  // Recorded before the machine is told, with the epoch it applies from (bid-record.ts).
  const changeBid = (next: AgentProfile): void => {
    bidRecord?.change(machine.bidFrom(), next);
    void driver.handle({ type: "profile", now: now(), profile: next });
  };
  const marketApi: MarketApiSource = {
    token: apiToken,
    contract: init.contract,
    profile: () => bidRecord?.latest ?? null,
    updateProfile: changeBid,
    terms: () => machine.terms(),
    amendmentProblem: (terms) => machine.amendmentProblem(terms),
    amend: (terms) => void driver.handle({ type: "amend", now: now(), terms }),
    approve: (amendment) => {
      if (!machine.status().member || !machine.amendments().some((a) => a.id === amendment)) return false;
      void driver.handle({ type: "approve", now: now(), amendment });
      return true;
    },
    amendments: () => machine.amendments(),
    ledger: () => ledgerBook.ledger(),
  };

  // Before the replay: whom this node convicted is not in the messages it stored (one per slot).
  const convictions = loadConvictions(store, id, nodeLog);
  if (convictions.length > 0) void driver.handle({ type: "convicted", now: now(), proofs: convictions });
  const replayed = replayStore(store, machine, driver, now);
  if (replayed.applied > 0) nodeLog.info({ replayed: replayed.applied }, "resumed from store");
  unservable = replayed.unservable;
  if (unservable.size > 0)
    nodeLog.warn(
      { store: store.path, undecodable: replayed.undecodable, broken: replayed.broken },
      "stored messages that do not decode, or that every node rejects, were skipped, and are not served",
    );

  await sync.start();
  undo.push("sync", () => sync.stop());
  gossip = createGossip(libp2p, id, {
    validate: (kind, bytes, from) => inbound.validate(kind, bytes, from),
    onMessage: (kind, bytes) => inbound.deliver(kind, bytes),
    onError: (err, ctx) => nodeLog.warn({ err: String(err), ...ctx }, "gossip handler error"),
    onLinked: (kind) => {
      if (kind === "membership") void driver.handle({ type: "linked", now: now() });
    },
  });
  const updatePeers = () => metrics.peers.set(connectedPeerCount(libp2p));
  libp2p.addEventListener("peer:connect", updatePeers);
  libp2p.addEventListener("peer:disconnect", updatePeers);
  undo.push("peer-listeners", () => {
    libp2p.removeEventListener("peer:connect", updatePeers);
    libp2p.removeEventListener("peer:disconnect", updatePeers);
  });

  let http: StatusServer | null = null;
  if (init.http && limits) {
    const { port, host: httpHost = "127.0.0.1" } = init.http;
    const refusals = createHttpRefusals({
      counter: metrics.httpRefused,
      log: componentLogger(nodeLog, "http"),
      limits,
    });
    try {
      http = await startStatusServer({
        port: init.http.port,
        ...(init.http.host ? { host: init.http.host } : {}),
        limits,
        refusals,
        routes: {
          status: () => status(),
          certificate: () => machine.status().certificate ?? undefined,
          metrics: () => metrics.render(),
        },
        api: {
          token: apiToken,
          routes: marketApiRoutes(marketApi, { maxBodyBytes: limits.maxBodyBytes, refusals }),
        },
        pages: dashboardRoutes(
          {
            terms: () => machine.terms().terms,
            termsOf: (certificate) => {
              const id = certificate.commit.terms;
              if (id === undefined) return init.contract;
              const now = machine.terms();
              if (now.id === id) return now.terms;
              // Terms not held here: the ones in effect, which the certificate then fails to verify
              // against, naming the terms it needs.
              return ledgerBook.amendedTerms(id) ?? now.terms;
            },
            history,
            metrics,
            status,
            connectedPeers: () => connectedPeerIds(libp2p),
            onError: (err) => nodeLog.warn({ err }, "dashboard frame failed"),
          },
          { maxStreams: limits.maxEventStreams, refusals },
        ),
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new ListenError("http", `${httpHost}:${port}`, code, (err as Error).message);
    }
    undo.push("http", () => http?.close());
  }

  void driver.handle({ type: "resume", now: now() });
  // The agent file changed while the node was down: a new bid, from the slot after the replayed one.
  if (bidRecord?.fileChanged) changeBid(bidRecord.fileChanged);
  driver.start();
  void ledgerCatchUp.start();
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
    // A second call while the first runs would leave again and unwind the same stack in between
    // the first's steps, resolving before the store and lock are released: it gets the first's.
    stop: (options) => {
      stopping ??= stopNode(options);
      return stopping;
    },
  };

  async function stopNode({ leave = true }: { leave?: boolean } = {}): Promise<void> {
    if (leave && gossip) {
      // A graceful leave stays to help decide the epoch without it (its accept may be the one
      // that makes a majority) until a member that stays holds it, then goes: at most
      // leaveStayMs. The driver keeps running.
      const left = new Promise<void>((resolve) => leftWaiters.add(resolve));
      await driver.handle({ type: "leave", now: now() });
      const grace = leaveStayMs(init.contract.timeouts) + 1_000;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([left, new Promise<void>((r) => (timer = setTimeout(r, grace)))]);
      clearTimeout(timer);
    }
    // Nothing acted on or published while the HTTP server closes (the unwind stops it later).
    driver.stop();
    stopped = true;
    // The teardown a failed start runs (startWalrasNode): a step that fails to stop must not
    // leave gossip running, the store open or the lock held, so every step runs.
    const failed = await undo.unwind(nodeLog);
    if (failed !== undefined) throw failed;
    nodeLog.info("walras node stopped");
  }
}

/**
 * An honest peer forwards every member's messages once, n per round, and rounds are paced only by
 * the network: two members on loopback run 200+ rounds a second, which a limit of 200 cut off
 * (their rejected demands graylisted each other and every epoch timed out). 1,000 a second sits
 * above what a node can accept at all (about 1-2 ms of CPU each), so it sheds only floods.
 */
const DEFAULT_PEER_RATE_LIMIT = 1000;

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
