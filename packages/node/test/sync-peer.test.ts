import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateKeyPair } from "@libp2p/crypto/keys";
import type { Stream } from "@libp2p/interface";
import { lpStream } from "@libp2p/utils";
import {
  type AgentId,
  type Contract,
  contractId,
  contractSchema,
  MAX_SYNC_AGENTS,
  type MessageKind,
  type SyncWant,
  type WireMessage,
} from "@walras/protocol";
import { type Logger, pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import type { InboundPipeline } from "../src/inbound/inbound-pipeline.ts";
import { createLogger } from "../src/logging/logger.ts";
import { createNodeMetrics, type NodeMetrics } from "../src/metrics/node-metrics.ts";
import type { CurrentDecision } from "../src/network/current-decision-answer.ts";
import { createHost, type Host } from "../src/network/host.ts";
import { answerByteLimit } from "../src/network/sync-answer-check.ts";
import { createSyncBans, type SyncBans } from "../src/network/sync-ban.ts";
import { createSyncBudget } from "../src/network/sync-budget.ts";
import type { MessagesRequest } from "../src/network/sync-messages.ts";
import { createSyncPeer, type SyncPeer } from "../src/network/sync-peer.ts";
import { handleSync, requestSync, SYNC_PROTOCOL, SyncError } from "../src/network/sync-protocol.ts";
import { createMessageWriter, type MessageWriter } from "../src/store/message-writer.ts";
import { openStore, type Store, type StoredMessage } from "../src/store/store.ts";
import { waitFor } from "./wait-for.ts";

const contract: Contract = contractSchema.parse({
  name: "sync-peer",
  resources: [{ id: "cpu", capacity: 10 }],
  fees: { perUnit: 0, fixed: 0 },
});
const id = contractId(contract);
const log = createLogger({ level: "silent" });

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startHost(bootstrap: string[] = []): Promise<Host> {
  const host = await createHost({
    privateKey: await generateKeyPair("Ed25519"),
    listen: ["/ip4/127.0.0.1/tcp/0"],
    bootstrap,
  });
  cleanups.push(() => host.stop());
  return host;
}

async function tempStore(maxPageCount?: number): Promise<Store> {
  const dir = await mkdtemp(join(tmpdir(), "walras-sync-peer-"));
  const store = openStore(dir, maxPageCount !== undefined ? { maxPageCount } : {});
  cleanups.push(async () => {
    store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return store;
}

const row = (
  digest: string,
  kind: MessageKind,
  round?: number,
  epoch = 0,
  signer = "agent",
): StoredMessage => ({
  digest,
  kind,
  epoch,
  ...(round !== undefined ? { round } : {}),
  signer,
  bytes: new TextEncoder().encode(digest),
  receivedAt: 1,
});

/**
 * How long the server holds a refused (banned or graylisted) peer's stream unread before it resets
 * it: short here, so a test waits for the reset itself rather than out the 2 s default.
 */
const HOLD_MS = 300;
/** The round timeout (and so the messages request timeout) of the contract the slow-answer tests run. */
const SLOW_ANSWER_MS = 1_000;
/** Node may fire a timer up to a millisecond early (it rounds the loop's clock). */
const TIMER_SLACK_MS = 2;

/**
 * A request the server holds unread: it fails once the server resets it, with no answer and not by
 * the asker's own timeout, and not before the hold time has passed since it was sent.
 */
async function expectHeldThenReset(request: () => Promise<unknown>): Promise<void> {
  const sent = performance.now();
  const held = await request().then(
    (answer) => new Error(`answered: ${JSON.stringify(answer)}`),
    (err: unknown) => err,
  );
  const heldFor = performance.now() - sent;
  expect(held).toBeInstanceOf(SyncError);
  expect((held as SyncError).message).not.toMatch(/over budget|answered/);
  expect((held as SyncError).timedOut).toBe(false);
  // A reset unread is a refusal to the asker, which cools the peer off as after a timeout.
  expect((held as SyncError).refused).toBe(true);
  expect(heldFor).toBeGreaterThanOrEqual(HOLD_MS - TIMER_SLACK_MS);
}

/** What the machine hands out as its current epoch's decision (the sync peer only encodes it). */
const CURRENT_DECISION = { kind: "propose", epoch: 7, note: "current" } as unknown as WireMessage;

interface Side {
  host: Host;
  store: Store;
  writer: MessageWriter;
  metrics: NodeMetrics;
  sync: SyncPeer;
  /** Bytes handed to the inbound pipeline, with the kinds they were wanted for. */
  synced: { text: string; wanted: readonly MessageKind[] }[];
  penalized: string[];
}

async function side(
  options: {
    bootstrap?: string[];
    quota?: number;
    graylisted?: () => boolean;
    /** Runs before a synced message is recorded; a throw there is the pipeline's. */
    onSynced?: (text: string) => void;
    /** Bans for refusals over budget. */
    bans?: SyncBans;
    log?: Logger;
    /** The sync peer's clock (default Date.now). */
    now?: () => number;
    /** What the machine hands out as its current decision (default: CURRENT_DECISION alone). */
    currentDecision?: () => CurrentDecision;
    /** Caps the store file (SQLITE_FULL past it, as on a full disk). */
    maxPageCount?: number;
    /** Told of a peer's answer holding no current decision. */
    noDecision?: (peer: string) => void;
    /** Told how each messages request ended and what it waited (the machine's `sync-ended`). */
    syncEnded?: (answered: boolean, timeoutMs: number) => void;
    /** The contract the node runs (default: one at the default timeouts). */
    contract?: Contract;
  } = {},
): Promise<Side> {
  const host = await startHost(options.bootstrap);
  const store = await tempStore(options.maxPageCount);
  const writer = createMessageWriter(store);
  // Before the store closes (cleanups run in reverse): no retry of a failed batch outlives it.
  cleanups.push(() => writer.stop());
  const metrics = createNodeMetrics();
  const synced: Side["synced"] = [];
  const penalized: string[] = [];
  const inbound: InboundPipeline = {
    validate: () => "ignore",
    deliver: () => {},
    releaseHeld: () => {},
    synced: (bytes, _from, asked) => {
      const text = new TextDecoder().decode(bytes);
      options.onSynced?.(text);
      synced.push({ text, wanted: asked.kinds });
      return "accept";
    },
  };
  const sync = createSyncPeer({
    libp2p: host.libp2p,
    contract: options.contract ?? contract,
    contractId: id,
    store,
    writer,
    inbound,
    metrics,
    log: options.log ?? log,
    status: () => ({ ok: true }),
    currentDecision: options.currentDecision ?? (() => ({ decision: [CURRENT_DECISION], exclusions: [] })),
    ledgerPage: (after) => ({ entries: [{ after: after ?? null }], more: false }),
    ...(options.noDecision ? { noDecision: options.noDecision } : {}),
    ...(options.syncEnded ? { syncEnded: options.syncEnded } : {}),
    penalize: (peer) => void penalized.push(peer),
    graylisted: options.graylisted ?? (() => false),
    ...(options.bans ? { bans: options.bans } : {}),
    refusedHoldMs: HOLD_MS,
    ...(options.quota !== undefined
      ? {
          budget: createSyncBudget({
            messages: {
              requests: { quota: 100, windowMs: 60_000 },
              messages: { quota: options.quota, windowMs: 60_000 },
            },
            decision: {
              requests: { quota: 100, windowMs: 60_000 },
              messages: { quota: options.quota, windowMs: 60_000 },
            },
            ledger: { requests: { quota: 1, windowMs: 60_000 } },
            status: { requests: { quota: 1, windowMs: 60_000 } },
            contract: { requests: { quota: 1, windowMs: 60_000 } },
          }),
        }
      : {}),
    now: options.now ?? (() => Date.now()),
  });
  await sync.start();
  cleanups.push(() => sync.stop());
  return { host, store, writer, metrics, sync, synced, penalized };
}

async function connected(
  options: Parameters<typeof side>[0] = {},
  clientOptions: Omit<Parameters<typeof side>[0] & {}, "bootstrap"> = {},
) {
  const server = await side(options);
  const client = await side({
    ...clientOptions,
    bootstrap: [server.host.libp2p.getMultiaddrs()[0]?.toString() ?? ""],
  });
  await client.host.bootstrapped;
  return { server, client };
}

/** An unsigned varint, as a length prefix. */
function varint(n: number): number[] {
  const out: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 0x80)) out.push((n % 0x80) | 0x80);
  out.push(n);
  return out;
}

/** A counter's samples with `outcome`, summed over its other labels. */
const outcomeCount = async (
  counter: NodeMetrics["syncRequestsSent" | "syncRequestsServed"],
  outcome: string,
) =>
  (await counter.get()).values
    .filter((v) => v.labels.outcome === outcome)
    .reduce((sum, v) => sum + v.value, 0);

const served = (metrics: NodeMetrics, outcome: string) => outcomeCount(metrics.syncRequestsServed, outcome);

/** How many of the client's requests ended (or were held) with `outcome`, whatever their purpose. */
const sentCount = (metrics: NodeMetrics, outcome: string) => outcomeCount(metrics.syncRequestsSent, outcome);

/** The client's requests by purpose and outcome, as "purpose outcome" → count (non-zero only). */
const sentByPurpose = async (metrics: NodeMetrics) =>
  Object.fromEntries(
    (await metrics.syncRequestsSent.get()).values
      .filter((v) => v.value > 0)
      .map((v) => [`${v.labels.purpose} ${v.labels.outcome}`, v.value]),
  );

/** How many answers the histogram holds for `purpose`, and their summed seconds. */
const answerSeconds = async (metrics: NodeMetrics, purpose: string) => {
  const values = (await metrics.syncAnswerSeconds.get()).values.filter((v) => v.labels.purpose === purpose);
  const of = (name: string) => values.find((v) => v.metricName === name)?.value ?? 0;
  return { count: of("walras_sync_answer_seconds_count"), sum: of("walras_sync_answer_seconds_sum") };
};

const sentOutcomes = async (metrics: NodeMetrics) => [
  ...new Set(
    (await metrics.syncRequestsSent.get()).values.filter((v) => v.value > 0).map((v) => v.labels.outcome),
  ),
];

/**
 * A node under a contract of 1 s rounds, connected to a peer that answers every request 2 s after
 * it reads it: later than the contract's 1 s, within a fixed 3 s. `nextAnswer` settles as the
 * next answer is sent.
 */
async function askingSlowPeer(syncEnded?: (answered: boolean, timeoutMs: number) => void) {
  const slow = await startHost();
  const sent: (() => void)[] = [];
  const nextAnswer = () => new Promise<void>((resolve) => void sent.push(resolve));
  await handleSync(slow.libp2p, async (req) => {
    await new Promise((resolve) => setTimeout(resolve, 2 * SLOW_ANSWER_MS));
    for (const resolve of sent.splice(0)) resolve();
    const late = (what: string) => Buffer.from(`late ${what}`).toString("base64");
    return req.type === "ledger" ? { entries: ["late ledger"], more: false } : { messages: [late(req.type)] };
  });
  const fast = contractSchema.parse({ ...contract, timeouts: { roundMs: SLOW_ANSWER_MS, announceMs: 250 } });
  const client = await side({
    bootstrap: [slow.libp2p.getMultiaddrs()[0]?.toString() ?? ""],
    contract: fast,
    ...(syncEnded ? { syncEnded } : {}),
  });
  await client.host.bootstrapped;
  return { client, nextAnswer };
}

describe("sync peer", () => {
  it("answers in pages that continue where the last stopped, with the kinds asked for", async () => {
    const { server, client } = await connected();
    const demands = Array.from({ length: 300 }, (_, i) => row(`d${i}`, "demand", 0));
    server.store.putMessages([...demands, row("j", "join"), row("e", "propose"), row("late", "demand", 1)]);
    const ask = (extra: object) =>
      requestSync(client.host.libp2p, server.host.libp2p.peerId, {
        type: "messages",
        contractId: id,
        epoch: 0,
        ...extra,
      });
    const text = (b64: string) => Buffer.from(b64, "base64").toString();

    const first = await ask({ round: 0, kinds: ["demand"] });
    expect(first.messages).toHaveLength(256);
    expect(first.next).toBeDefined();
    const second = await ask({ round: 0, kinds: ["demand"], after: first.next });
    expect(second.next).toBeUndefined();
    expect([...first.messages, ...second.messages].map(text)).toEqual(demands.map((d) => d.digest));

    const small = await ask({ round: 0, kinds: ["demand"], limit: 10 });
    expect(small.messages.map(text)).toEqual(demands.slice(0, 10).map((d) => d.digest));

    // A topic name stands for all its kinds; a membership kind for itself alone.
    expect((await ask({ kinds: ["membership"] })).messages.map(text).sort()).toEqual(["e", "j"]);
    expect((await ask({ kinds: ["propose"] })).messages.map(text)).toEqual(["e"]);
    expect(await served(server.metrics, "served")).toBe(5);
    expect((await server.metrics.syncMessagesServed.get()).values[0]?.value).toBe(256 + 44 + 10 + 2 + 1);
  });

  it("writes what it received before answering, so a page cut among those messages says where the next starts", async () => {
    const { server, client } = await connected();
    server.store.putMessages([row("s1", "demand", 4, 3)]);
    // Received within the batch delay (50 ms), not written yet when the request comes.
    for (let i = 0; i < 5; i++) server.writer.received(row(`u${i}`, "demand", 4, 3, `a${i}`));
    const ask = (after?: number) =>
      requestSync(client.host.libp2p, server.host.libp2p.peerId, {
        type: "messages",
        contractId: id,
        epoch: 3,
        round: 4,
        kinds: ["demand"],
        limit: 3,
        ...(after !== undefined ? { after } : {}),
      });
    const text = (b64: string) => Buffer.from(b64, "base64").toString();
    const first = await ask();
    expect(first.messages.map(text)).toEqual(["s1", "u0", "u1"]);
    expect(server.writer.pending).toBe(0);
    // protocol.md §3: when more remain it carries next.
    expect(first.next).toBeDefined();
    const rest = await ask(first.next);
    expect(rest.messages.map(text)).toEqual(["u2", "u3", "u4"]);
    expect(rest.next).toBeUndefined();
  });

  it("serves what it received and has not written yet after what it stored, writing nothing: a full disk fails no answer", async () => {
    const { server, client } = await connected({ maxPageCount: 24 });
    server.store.putMessages([row("s1", "demand", 4, 3), row("s9", "accept", undefined, 9)]);
    // The store file at its cap: every write fails with SQLITE_FULL from here.
    for (let pad = 1; ; pad++) {
      try {
        server.store.saveState("pad", "p".repeat(pad * 4096));
      } catch {
        break;
      }
    }
    // Larger than a page each, so the capped file has no room for them.
    const big = (m: StoredMessage): StoredMessage => ({
      ...m,
      bytes: new TextEncoder().encode(m.digest.padEnd(6000)),
    });
    for (const m of [
      row("u1", "demand", 4, 3),
      row("u2", "demand", 4, 3, "agent-2"),
      row("a9", "accept", undefined, 9, "other"),
      row("p9", "propose", undefined, 9),
      row("x", "demand", 4, 5),
    ])
      server.writer.received(big(m));
    const ask = (request: Omit<MessagesRequest, "type" | "contractId">) =>
      requestSync(client.host.libp2p, server.host.libp2p.peerId, {
        type: "messages",
        contractId: id,
        ...request,
      });
    const text = (b64: string) => Buffer.from(b64, "base64").toString().trimEnd();

    const demands = await ask({ epoch: 3, round: 4, kinds: ["demand"] });
    expect(demands.messages.map(text)).toEqual(["s1", "u1", "u2"]);
    expect(demands.next).toBeUndefined();
    expect(server.writer.failing).toBe(true);
    // A page that ends with the stored ones says where the next starts: the unwritten follow.
    const first = await ask({ epoch: 3, round: 4, kinds: ["demand"], limit: 1 });
    expect(first.messages.map(text)).toEqual(["s1"]);
    expect(first.next).toBeDefined();
    const rest = await ask({ epoch: 3, round: 4, kinds: ["demand"], after: first.next });
    expect(rest.messages.map(text)).toEqual(["u1", "u2"]);
    expect(rest.next).toBeUndefined();
    // Unwritten messages have no position: a page cut among them ends early, without next
    // (protocol.md §3); the asker asks again for what it still lacks.
    const cut = await ask({ epoch: 3, round: 4, kinds: ["demand"], after: first.next, limit: 1 });
    expect(cut.messages.map(text)).toEqual(["u1"]);
    expect(cut.next).toBeUndefined();
    const missing = await ask({ epoch: 3, round: 4, kinds: ["demand"], agents: ["agent-2"] });
    expect(missing.messages.map(text)).toEqual(["u2"]);
    const decision = await requestSync(client.host.libp2p, server.host.libp2p.peerId, {
      type: "decision",
      contractId: id,
      epoch: 9,
    });
    expect(decision.messages.map(text)).toEqual(["p9", "s9", "a9"]);
    // Served from memory: still pending, and the store holds what it held.
    expect(server.writer.pending).toBe(5);
    expect(server.store.allMessages().map((m) => m.digest)).toEqual(["s1", "s9"]);

    // Room again: written once, served once.
    server.store.saveState("pad", "");
    server.writer.flush();
    expect(server.writer.pending).toBe(0);
    const after = await ask({ epoch: 3, round: 4, kinds: ["demand"] });
    expect(after.messages.map(text)).toEqual(["s1", "u1", "u2"]);
  });

  it("answers only the named agents' messages, and refuses a request naming too many", async () => {
    const { server, client } = await connected();
    const signers = Array.from({ length: 50 }, (_, i) => `agent-${i}`);
    server.store.putMessages(signers.map((s) => row(`d-${s}`, "demand", 3, 0, s)));
    const ask = (agents: string[]) =>
      requestSync(client.host.libp2p, server.host.libp2p.peerId, {
        type: "messages",
        contractId: id,
        epoch: 0,
        round: 3,
        kinds: ["demand"],
        agents,
      });
    const text = (b64: string) => Buffer.from(b64, "base64").toString();
    const answer = await ask(["agent-7", "agent-42", "nobody"]);
    expect(answer.messages.map(text).sort()).toEqual(["d-agent-42", "d-agent-7"]);
    expect((await server.metrics.syncMessagesServed.get()).values[0]?.value).toBe(2);
    await expect(ask(signers.slice(0, MAX_SYNC_AGENTS + 1))).rejects.toThrow(/agents/);
  });

  it("asks only for the missing agents' messages when it names few enough", async () => {
    const { server, client } = await connected();
    const signers = Array.from({ length: 50 }, (_, i) => `agent-${i}`);
    server.store.putMessages(signers.map((s) => row(`d-${s}`, "demand", 4, 0, s)));
    const missing = [signers[3], signers[30]] as AgentId[];
    client.sync.catchUp({ type: "messages", epoch: 0, round: 4, kinds: ["demand"], from: missing });
    await waitFor("the missing demands", () => client.synced.length >= 2);
    // Of the 50 the server holds, the answer carried the two asked for.
    await waitFor(
      "the answer counted",
      async () => ((await server.metrics.syncMessagesServed.get()).values[0]?.value ?? 0) >= 2,
    );
    expect((await server.metrics.syncMessagesServed.get()).values[0]?.value).toBe(2);
    expect(client.synced.map((s) => s.text).sort()).toEqual(["d-agent-3", "d-agent-30"]);
  });

  it("labels each request with what it was for: named agents' or a whole round's demands, commits, a decision, a ledger page", async () => {
    const { server, client } = await connected();
    const signers = Array.from({ length: MAX_SYNC_AGENTS + 1 }, (_, i) => `agent-${i}` as AgentId);
    server.store.putMessages(signers.map((s) => row(`d-${s}`, "demand", 4, 0, s)));
    // One at a time, each waited for: a want made while another is in flight to the one peer
    // waits in line (counted `deferred`) before it is asked.
    const asked = async (want: SyncWant, count: number) => {
      client.sync.catchUp(want);
      await waitFor(`${count} answered`, async () => (await sentCount(client.metrics, "answered")) >= count);
    };
    await asked({ type: "messages", epoch: 0, round: 4, kinds: ["demand"], from: signers.slice(0, 2) }, 1);
    // More missing than a request may name: it asks for the whole round.
    await asked({ type: "messages", epoch: 0, round: 4, kinds: ["demand"], from: signers }, 2);
    await asked({ type: "messages", epoch: 0, kinds: ["commit"] }, 3);
    await asked({ type: "decision", epoch: 0 }, 4);
    await client.sync.fetchLedger(undefined);
    expect(await sentByPurpose(client.metrics)).toEqual({
      "demand:named answered": 1,
      "demand:all answered": 1,
      "commit:all answered": 1,
      "decision answered": 1,
      "ledger answered": 1,
    });
    // Each answered request timed once, under its purpose.
    for (const purpose of ["demand:named", "demand:all", "commit:all", "decision", "ledger"])
      expect((await answerSeconds(client.metrics, purpose)).count).toBe(1);
  });

  it("does not merge wants of one round that name other agents, and asks a peer one at a time", async () => {
    const { server, client } = await connected();
    server.store.putMessages(["a", "b"].map((s) => row(`d-${s}`, "demand", 5, 0, s)));
    const want = (from: string) =>
      ({ type: "messages", epoch: 0, round: 5, kinds: ["demand"], from: [from as AgentId] }) as const;
    client.sync.catchUp(want("a"));
    client.sync.catchUp(want("b"));
    client.sync.catchUp(want("a"));
    await waitFor("both demands", () => client.synced.length >= 2);
    expect(client.synced.map((s) => s.text).sort()).toEqual(["d-a", "d-b"]);
    expect(await sentCount(client.metrics, "coalesced")).toBe(1);
    // The one peer had a's request in flight: b's waited in line for it to end, then went out.
    expect(await sentCount(client.metrics, "deferred")).toBe(1);
    expect(await sentCount(client.metrics, "answered")).toBe(2);
    expect(await sentByPurpose(client.metrics)).toEqual({
      "demand:named coalesced": 1,
      "demand:named deferred": 1,
      "demand:named answered": 2,
    });
  });

  it("refuses a peer over its budget with an error, counts it and lowers its score", async () => {
    const { server, client } = await connected({ quota: 300 });
    server.store.putMessages(Array.from({ length: 200 }, (_, i) => row(`m${i}`, "demand", 0)));
    const ask = () =>
      requestSync(client.host.libp2p, server.host.libp2p.peerId, {
        type: "messages",
        contractId: id,
        epoch: 0,
      });
    // A request is charged the messages it was sent: 200, then 200 more (in debt), then refused.
    expect((await ask()).messages).toHaveLength(200);
    expect((await ask()).messages).toHaveLength(200);
    await expect(ask()).rejects.toThrow(/over budget for messages requests/);
    expect(await served(server.metrics, "refused")).toBe(1);
    expect(server.penalized).toEqual([client.host.libp2p.peerId.toString()]);
    // Another request type has a budget of its own.
    await expect(
      requestSync(client.host.libp2p, server.host.libp2p.peerId, { type: "status" }),
    ).resolves.toEqual({ status: { ok: true } });
  });

  it("holds a peer refused over budget again and again unread for a while, without gossipsub", async () => {
    const lines: string[] = [];
    const serverLog = pino({ level: "warn" }, { write: (line: string) => void lines.push(line) });
    const { server, client } = await connected({
      quota: 1,
      bans: createSyncBans({ refusals: 3, windowMs: 60_000, banMs: 60_000 }),
      log: serverLog,
    });
    const clientId = client.host.libp2p.peerId.toString();
    const status = () =>
      requestSync(client.host.libp2p, server.host.libp2p.peerId, { type: "status" }, { timeoutMs: 5_000 });
    // One status request a minute (and no gossipsub score at all): the first is answered, the
    // next three refused, and the third refusal starts the ban.
    await expect(status()).resolves.toEqual({ status: { ok: true } });
    for (let i = 0; i < 3; i++) await expect(status()).rejects.toThrow(/over budget/);
    // Now its requests are not read: held, then reset, with no answer.
    await expectHeldThenReset(status);
    expect(await served(server.metrics, "refused")).toBe(3);
    expect(await served(server.metrics, "banned")).toBe(1);
    expect((await server.metrics.syncBans.get()).values[0]?.value).toBe(1);
    // Logged once for the episode, naming the peer.
    const banned = lines.filter((l) => l.includes("holding the peer's requests unread"));
    expect(banned).toHaveLength(1);
    expect(JSON.parse(banned[0] as string).peer).toBe(clientId);
  });

  it("asks another peer after a refusal, and not the refusing one again while it cools off", async () => {
    // A peer that refuses every request, as one does whose budget for us is spent.
    const refuser = await startHost();
    let refused = 0;
    await handleSync(refuser.libp2p, async () => {
      refused++;
      return { error: "over budget for messages requests: slow down" };
    });
    const answerer = await side();
    answerer.store.putMessages([row("d-4", "demand", 4), row("d-5", "demand", 5)]);
    // The clock stands still: the refuser's cooling off (3 s) cannot end during the test.
    const client = await side({
      bootstrap: [refuser, answerer.host].map((h) => h.libp2p.getMultiaddrs()[0]?.toString() ?? ""),
      now: () => 1_000_000,
    });
    await client.host.bootstrapped;
    // Both peers are asked (fan-out 2): one refuses, the other answers.
    client.sync.catchUp({ type: "messages", epoch: 0, round: 4, kinds: ["demand"] });
    await waitFor(
      "the answer and the refusal",
      async () => client.synced.length === 1 && (await sentCount(client.metrics, "refused")) === 1,
    );
    expect(refused).toBe(1);
    expect(client.synced.map((s) => s.text)).toEqual(["d-4"]);
    // The next catch-up goes to the answering peer alone.
    client.sync.catchUp({ type: "messages", epoch: 0, round: 5, kinds: ["demand"] });
    await waitFor("the second answer", () => client.synced.length === 2);
    expect(client.synced.map((s) => s.text)).toEqual(["d-4", "d-5"]);
    await waitFor("the requests counted", async () => (await sentCount(client.metrics, "answered")) === 2);
    expect(refused).toBe(1);
    expect(await sentCount(client.metrics, "refused")).toBe(1);
    expect(await served(answerer.metrics, "served")).toBe(2);
  });

  it("gives up on a messages request after the contract's request timeout (1 s at roundMs 1 s), not a fixed 3 s", async () => {
    const { client, nextAnswer } = await askingSlowPeer();
    client.sync.catchUp({ type: "messages", epoch: 0, round: 1, kinds: ["demand"] });
    // One event loop runs both ends, so the asker's timer (1 s from sending) fires before the
    // peer's (2 s from receiving): the request has timed out before the answer is sent.
    await nextAnswer();
    await waitFor("the request to time out", async () =>
      (await sentOutcomes(client.metrics)).includes("timed-out"),
    );
    expect(client.synced).toEqual([]);
    // A timeout is not an answer's time, for the histogram or for the timer: the next request
    // waits the contract's 1 s again.
    expect((await answerSeconds(client.metrics, "demand:all")).count).toBe(0);
    client.sync.catchUp({ type: "messages", epoch: 0, round: 2, kinds: ["demand"] });
    await waitFor(
      "the second request to time out",
      async () => (await sentCount(client.metrics, "timed-out")) >= 2,
    );
    const waits = (await client.metrics.syncRequestTimeoutSeconds.get()).values;
    expect(waits.map((v) => [v.labels.type, v.value])).toEqual([["messages", 1]]);
  });

  it("tells the machine how each of its messages requests ended, answered or timed out, and how long it waited, and nothing of other requests", async () => {
    const ended: [boolean, number][] = [];
    const { server, client } = await connected(
      {},
      { syncEnded: (answered, timeoutMs) => void ended.push([answered, timeoutMs]) },
    );
    server.store.putMessages([row("a", "demand", 2)]);
    client.sync.catchUp({ type: "decision", epoch: 0 });
    client.sync.catchUp({ type: "messages", epoch: 0, round: 2, kinds: ["demand"] });
    await waitFor(
      "both requests to be answered",
      async () => (await sentCount(client.metrics, "answered")) >= 2,
    );
    // The contract's 4 s rounds: the fixed 3 s; 1 s rounds: 1 s.
    expect(ended).toEqual([[true, 3_000]]);
    const slow = await askingSlowPeer((ok, timeoutMs) => void ended.push([ok, timeoutMs]));
    slow.client.sync.catchUp({ type: "messages", epoch: 0, round: 1, kinds: ["demand"] });
    await waitFor("the request to time out", () => ended.length > 1);
    // The slow peer's contract has 1 s rounds: a 1 s wait.
    const slowTimeoutMs = 1_000;
    expect(ended).toEqual([
      [true, 3_000],
      [false, slowTimeoutMs],
    ]);
  });

  it("waits longer for pages once it has timed slow ones (machine/sync-request-timer.ts), and says how long in /metrics", async () => {
    const { client } = await askingSlowPeer();
    const timeout = async () =>
      (await client.metrics.syncRequestTimeoutSeconds.get()).values
        .filter((v) => v.labels.type === "decision")
        .map((v) => v.value);
    client.sync.catchUp({ type: "decision", epoch: 0 });
    await waitFor("the first decision page", () => client.synced.some((s) => s.text === "late decision"));
    expect(await timeout()).toEqual([3]);
    // A 2 s answer: SRTT 2 s, RTTVAR 1 s, 2 + 4 · 1 = 6 s, capped at 1.5 · 3 s.
    client.sync.catchUp({ type: "decision", epoch: 1 });
    await waitFor("the second decision page", async () => (await sentCount(client.metrics, "answered")) >= 2);
    expect(await timeout()).toEqual([4.5]);
    expect(await sentOutcomes(client.metrics)).toEqual(["answered"]);
  });

  it("waits the fixed page timeout (3 s) for decision and ledger pages at roundMs 1 s: they hold no round up", async () => {
    // A 1 MiB page in the contract's 1 s took an 8.4 Mbit/s uplink; each retry asked for the same page.
    const { client } = await askingSlowPeer();
    client.sync.catchUp({ type: "decision", epoch: 0 });
    await waitFor("the decision page", () => client.synced.some((s) => s.text === "late decision"));
    expect(await client.sync.fetchLedger(undefined)).toMatchObject({ entries: ["late ledger"], more: false });
    expect(await sentOutcomes(client.metrics)).toEqual(["answered"]);
    // Each answer came 2 s after its request was read, and was timed so (less a timer's slack).
    for (const purpose of ["decision", "ledger"]) {
      const { count, sum } = await answerSeconds(client.metrics, purpose);
      expect(count).toBe(1);
      expect(sum).toBeGreaterThanOrEqual((2 * SLOW_ANSWER_MS - TIMER_SLACK_MS) / 1000);
      expect(sum).toBeLessThan(3);
    }
  });

  it("does not read a graylisted peer's requests: they are held, then reset", async () => {
    const { server, client } = await connected({ graylisted: () => true });
    // The asker takes the reset as a refusal (and cools the peer off), not as a lost stream.
    await expectHeldThenReset(() =>
      requestSync(client.host.libp2p, server.host.libp2p.peerId, { type: "status" }, { timeoutMs: 5_000 }),
    );
    expect(await served(server.metrics, "refused")).toBe(1);
    expect(server.penalized).toHaveLength(1);
    expect(await served(server.metrics, "served")).toBe(0);
  });

  it("catches up through the pipeline, merging a want identical to one in flight", async () => {
    const { server, client } = await connected();
    server.store.putMessages([row("a", "demand", 2), row("b", "demand", 2), row("c", "commit", 2)]);
    const want: SyncWant = { type: "messages", epoch: 0, round: 2, kinds: ["demand"] };
    client.sync.catchUp(want);
    client.sync.catchUp(want);
    client.sync.catchUp({ ...want });
    await waitFor("the catch-up to arrive", () => client.synced.length >= 2);
    await waitFor("the request to complete", async () => (await sentCount(client.metrics, "answered")) === 1);
    expect(await sentCount(client.metrics, "coalesced")).toBe(2);
    expect(client.synced.map((s) => s.text).sort()).toEqual(["a", "b"]);
    expect(client.synced.every((s) => s.wanted.includes("demand"))).toBe(true);
    // Once it is done, the same want goes out again.
    client.sync.catchUp(want);
    await waitFor("the second request", async () => (await sentCount(client.metrics, "answered")) === 2);
  });

  it("serves epochs' decisions in the order they are adopted, the current one from the machine, within a budget", async () => {
    const { server, client } = await connected({ quota: 5 });
    server.store.putMessages([
      row("a4", "accept", undefined, 4),
      row("p4", "propose", undefined, 4),
      row("a3", "accept", undefined, 3),
      row("v3", "view", undefined, 3),
      row("d3", "demand", 0, 3),
      row("p3", "propose", undefined, 3),
      row("far", "propose", undefined, 3 + 64),
    ]);
    const ask = (epoch?: number) =>
      requestSync(client.host.libp2p, server.host.libp2p.peerId, {
        type: "decision",
        contractId: id,
        ...(epoch !== undefined ? { epoch } : {}),
      });
    const text = (b64: string) => Buffer.from(b64, "base64").toString();
    // Proposals before accepts within an epoch, epochs in order, only DECISIONS_PER_SYNC of them.
    expect((await ask(3)).messages.map(text)).toEqual(["p3", "a3", "p4", "a4"]);
    expect(JSON.parse(text((await ask()).messages[0] ?? ""))).toMatchObject({ note: "current" });
    // 4 + 1 served against a quota of 5: the next request is refused.
    await expect(ask(3)).rejects.toThrow(/over budget for decision requests/);
    expect(server.penalized).toEqual([client.host.libp2p.peerId.toString()]);
  });

  it("sends the current decision whole, and the newest exclusion plans that fit in the bytes left, oldest first", async () => {
    // Plans of ~300 KB, as a propose of ~1,700 members: sent first and cut in send order, three
    // of them filled the page and the current decision was cut out.
    const big = (kind: string, epoch: number, note: string, size: number) =>
      ({ kind, epoch, note, pad: "x".repeat(size) }) as unknown as WireMessage;
    const exclusions = [3, 4, 5, 6].map((e) => big("propose", e, `plan ${e}`, 300_000));
    const decision = [
      big("propose", 7, "current", 300_000),
      ...[1, 2, 3].map((i) => big("accept", 7, `accept ${i}`, 300)),
    ];
    const { server, client } = await connected({ currentDecision: () => ({ decision, exclusions }) });
    const answer = await requestSync(client.host.libp2p, server.host.libp2p.peerId, {
      type: "decision",
      contractId: id,
    });
    const notes = answer.messages.map(
      (b64) => (JSON.parse(Buffer.from(b64, "base64").toString()) as { note: string }).note,
    );
    expect(notes).toEqual(["plan 5", "plan 6", "current", "accept 1", "accept 2", "accept 3"]);
  });

  it("answers a decision request for the last safe epochs (empty) and keeps serving", async () => {
    const { server, client } = await connected();
    server.store.putMessages([row("p3", "propose", undefined, 3)]);
    const ask = (epoch: number) =>
      requestSync(
        client.host.libp2p,
        server.host.libp2p.peerId,
        { type: "decision", contractId: id, epoch },
        { timeoutMs: 5_000 },
      );
    // From 2^53 - 63 on, epoch + 1 stops growing: an epoch loop bounded by a sum never ended.
    await expect(ask(Number.MAX_SAFE_INTEGER)).resolves.toEqual({ messages: [] });
    await expect(ask(Number.MAX_SAFE_INTEGER - 63)).resolves.toEqual({ messages: [] });
    const text = (b64: string) => Buffer.from(b64, "base64").toString();
    expect((await ask(3)).messages.map(text)).toEqual(["p3"]);
  });

  it("fetches a decision through the pipeline as proposals, accepts and promises, and a ledger page", async () => {
    const { server, client } = await connected();
    server.store.putMessages([row("p5", "propose", undefined, 5), row("a5", "accept", undefined, 5)]);
    client.sync.catchUp({ type: "decision", epoch: 5 });
    await waitFor("the decision to arrive", () => client.synced.length >= 2);
    expect(client.synced.map((s) => s.text)).toEqual(["p5", "a5"]);
    expect(client.synced[0]?.wanted).toEqual(["propose", "accept", "view"]);
    // The page names who sent it: a page that then fails verification names the peer at fault.
    await expect(client.sync.fetchLedger("f".repeat(64))).resolves.toEqual({
      entries: [{ after: "f".repeat(64) }],
      more: false,
      peer: server.host.libp2p.peerId.toString(),
    });
  });

  it("tells the machine of an answer holding no current decision (a peer without an epoch), and not of one holding it", async () => {
    const empty: string[] = [];
    const { server, client } = await connected(
      { currentDecision: () => ({ decision: [], exclusions: [] }) },
      { noDecision: (peer) => void empty.push(peer) },
    );
    client.sync.catchUp({ type: "decision", epoch: null });
    await waitFor("the empty answer", () => empty.length > 0);
    expect(empty).toEqual([server.host.libp2p.peerId.toString()]);
    expect(client.synced).toEqual([]);
    const told: string[] = [];
    const holding = await connected({}, { noDecision: (peer) => void told.push(peer) });
    holding.client.sync.catchUp({ type: "decision", epoch: null });
    await waitFor("the decision to arrive", () => holding.client.synced.length > 0);
    expect(told).toEqual([]);
  });

  it("applies the rest of an answer when the pipeline throws on one message, and nothing escapes", async () => {
    const failing = new Set(["b", "p6"]);
    const { server, client } = await connected(
      {},
      {
        onSynced: (text) => {
          if (failing.has(text)) throw new Error(`store write failed for ${text}`);
        },
      },
    );
    server.store.putMessages([
      row("a", "demand", 6),
      row("b", "demand", 6),
      row("c", "demand", 6),
      row("p6", "propose", undefined, 6),
      row("a6", "accept", undefined, 6),
    ]);
    const escaped: unknown[] = [];
    const onRejection = (reason: unknown) => void escaped.push(reason);
    process.on("unhandledRejection", onRejection);
    cleanups.push(() => void process.off("unhandledRejection", onRejection));
    client.sync.catchUp({ type: "messages", epoch: 0, round: 6, kinds: ["demand"] });
    client.sync.catchUp({ type: "decision", epoch: 6 });
    await waitFor("the messages after the failing ones", () => client.synced.length >= 3);
    expect(client.synced.map((s) => s.text).sort()).toEqual(["a", "a6", "c"]);
    // Both catch-ups ended (a rejection would have escaped by now): the same wants go out again.
    const answered = () => sentCount(client.metrics, "answered");
    await waitFor("both answers", async () => (await answered()) === 2);
    client.sync.catchUp({ type: "decision", epoch: 6 });
    await waitFor("the decision asked again", async () => (await answered()) === 3);
    expect(escaped).toEqual([]);
  });

  it("drops an answer bigger than the page asked for unapplied, counts it and penalises the peer", async () => {
    const hostile = await startHost();
    const asked: string[] = [];
    const b64 = (text: string) => Buffer.from(text).toString("base64");
    await handleSync(hostile.libp2p, async (req) => {
      asked.push(req.type);
      // 300 messages for a page of 256, tempting the asker on with `next`; decisions over the bytes.
      if (req.type === "messages")
        return { messages: Array.from({ length: 300 }, (_, i) => b64(`forged-${i}`)), next: 1 };
      return { messages: Array.from({ length: 6 }, () => Buffer.alloc(256 * 1024).toString("base64")) };
    });
    const client = await side({ bootstrap: [hostile.libp2p.getMultiaddrs()[0]?.toString() ?? ""] });
    await client.host.bootstrapped;
    const hostileId = hostile.libp2p.peerId.toString();
    client.sync.catchUp({ type: "messages", epoch: 0, round: 1, kinds: ["demand"] });
    client.sync.catchUp({ type: "decision", epoch: 2 });
    await waitFor("both answers refused", () => client.penalized.length >= 2, { timeoutMs: 4_000 });
    expect(client.penalized).toEqual([hostileId, hostileId]);
    expect(client.synced).toEqual([]);
    // The messages page was not followed to the next.
    expect(asked.sort()).toEqual(["decision", "messages"]);
    expect(await sentCount(client.metrics, "oversized")).toBe(2);
    expect(await sentCount(client.metrics, "answered")).toBe(0);
    // Nor timed as answers.
    for (const purpose of ["demand:all", "decision"])
      expect((await answerSeconds(client.metrics, purpose)).count).toBe(0);
  });

  it("stops reading an answer whose length passes the page asked for, and drops it as oversized", async () => {
    const hostile = await startHost();
    const streams: Stream[] = [];
    // Announces 2 MiB (under the transport's 4 MiB, over what a page of messages holds), sends a
    // few bytes of it and then nothing: an asker that waits for the body only times out.
    await hostile.libp2p.handle(SYNC_PROTOCOL, async (stream) => {
      streams.push(stream);
      await lpStream(stream).read();
      stream.send(
        Uint8Array.from([...varint(2 * 1024 * 1024), ...new TextEncoder().encode('{"messages":["')]),
      );
    });
    const client = await side({ bootstrap: [hostile.libp2p.getMultiaddrs()[0]?.toString() ?? ""] });
    await client.host.bootstrapped;
    client.sync.catchUp({ type: "messages", epoch: 0, round: 1, kinds: ["demand"] });
    await waitFor("the answer refused", () => client.penalized.length >= 1, { timeoutMs: 4_000 });
    expect(client.penalized).toEqual([hostile.libp2p.peerId.toString()]);
    expect(client.synced).toEqual([]);
    // Dropped as oversized, not waited for until it timed out.
    expect(await sentOutcomes(client.metrics)).toEqual(["oversized"]);
    // The asker reset the stream rather than read on.
    await waitFor("the hostile stream reset", () => streams[0]?.status !== "open");
    expect(answerByteLimit({ type: "messages", contractId: id, epoch: 0 })).toBeLessThan(2 * 1024 * 1024);
  });
});
