import type { ServerResponse } from "node:http";
import { connect, type Socket } from "node:net";
import type { Certificate, MachineAction } from "@walras/protocol";
import { testContract } from "@walras/test-support";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { createMarketHistory, type MarketHistory } from "../src/history/market-history.ts";
import { type DashboardFeedOptions, dashboardFeed } from "../src/http/dashboard/dashboard-feed.ts";
import type { DashboardSource } from "../src/http/dashboard/dashboard-frames.ts";
import { dashboardRoutes } from "../src/http/dashboard/dashboard-routes.ts";
import { httpLimits } from "../src/http/http-limits.ts";
import { createHttpRefusals } from "../src/http/http-refusals.ts";
import type { RouteHandler } from "../src/http/respond.ts";
import { type StatusServer, startStatusServer } from "../src/http/status-server.ts";
import { createNodeMetrics, type NodeMetrics } from "../src/metrics/node-metrics.ts";
import type { NodeStatus } from "../src/node-status.ts";
import { waitFor } from "./wait-for.ts";

const contract = testContract("dashboard-feed");
let server: StatusServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/**
 * The dashboard's routes on a real status server, with the status each /events answer began with
 * and the metrics its refusals are counted in.
 */
async function dashboardServer(
  options: DashboardFeedOptions = {},
): Promise<{ server: StatusServer; answered: number[]; metrics: NodeMetrics }> {
  const { metrics, pages } = countedFeed(options);
  const events = pages["/events"] as RouteHandler;
  const answered: number[] = [];
  const started = await startStatusServer({
    port: 0,
    routes: { status: () => ({}), certificate: () => undefined, metrics: async () => "" },
    pages: {
      ...pages,
      // A response queued behind an open stream on the same connection never reaches the wire:
      // its status is read here instead.
      "/events": async (req, res) => {
        await events(req, res);
        answered.push(res.statusCode);
      },
    },
  });
  return { server: started, answered, metrics };
}

describe("the dashboard's event feed", () => {
  it("reports a certificate view that throws to onError, and keeps the feed running", async () => {
    const history = createMarketHistory();
    const errors: unknown[] = [];
    const feed = dashboardFeed({ ...lonelyNode(history), onError: (err) => errors.push(err) }, () => {
      throw new Error("view failed");
    });
    server = await startStatusServer({
      port: 0,
      routes: { status: () => ({}), certificate: () => undefined, metrics: async () => "" },
      pages: { "/events": feed },
    });
    const abort = new AbortController();
    const res = await fetch(`${server.url}/events`, { signal: abort.signal });
    expect(res.status).toBe(200);
    const certificate = { commit: { epoch: 1 }, signatures: [] } as unknown as Certificate;
    history.record({ type: "certificate", certificate } as MachineAction);
    await waitFor("the failed view to be reported", () => errors.length > 0);
    expect(String(errors[0])).toContain("view failed");
    history.record({ type: "certificate", certificate } as MachineAction);
    await waitFor("the next failure to be reported too", () => errors.length > 1);
    abort.abort();
  });

  it("admits at most 32 streams from requests pipelined on one connection, and turns the rest away", async () => {
    const started = await dashboardServer();
    server = started.server;
    const requests = 100;
    const socket = connect(server.port, "127.0.0.1");
    socket.on("error", () => {});
    socket.write("GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".repeat(requests));
    await waitFor("every pipelined request to be answered", () => started.answered.length === requests);
    expect(started.answered.filter((s) => s === 200)).toHaveLength(32);
    expect(started.answered.filter((s) => s === 503)).toHaveLength(requests - 32);
    const refused = (await started.metrics.httpRefused.get()).values;
    expect(refused).toEqual([expect.objectContaining({ labels: { reason: "event_streams" }, value: 68 })]);

    // Closing the connection gives every place back.
    socket.destroy();
    const url = server.url;
    await waitFor("the closed streams to free their places", async () => {
      const abort = new AbortController();
      const res = await fetch(`${url}/events`, { signal: abort.signal });
      abort.abort();
      return res.status === 200;
    });
  });

  it("drops an /events client that stopped reading, counted, and the feed lets it go", async () => {
    const { metrics, refusals, history, pages, subscribed } = countedFeed();
    const events = pages["/events"] as RouteHandler;
    let stream: ServerResponse | undefined;
    server = await startStatusServer({
      port: 0,
      routes: { status: () => ({}), certificate: () => undefined, metrics: async () => "" },
      limits: { writeStallTimeoutMs: 300 },
      refusals,
      pages: {
        ...pages,
        "/events": (req, res) => {
          stream = res;
          return events(req, res);
        },
      },
    });
    const socket = await eventsReaderThatReadsNothing(server.port, subscribed);

    // Rounds of a market with many resources, until the kernel's buffers are full and the node
    // holds some of a frame itself (less than the stream's 1 MiB cut-off: that is not this bound).
    const buffered = () => stream?.socket?.writableLength ?? 0;
    // A chunked response corks its socket until the next tick: only after that does a buffer
    // left over mean the kernel took no more (closeWideRound waits for it).
    for (let round = 0; buffered() === 0 && round < 200; round++) await closeWideRound(history, round);
    expect(buffered()).toBeGreaterThan(0);
    expect(buffered()).toBeLessThan(1 << 20);

    const refused = async () => (await metrics.httpRefused.get()).values;
    await waitFor("the client that stopped reading to be dropped", async () => (await refused()).length > 0);
    expect(await refused()).toEqual([
      expect.objectContaining({ labels: { reason: "stalled_reader" }, value: 1 }),
    ]);
    await waitFor("the feed to stop with its only client gone", () => subscribed() === 0);
    // Reading again, the client finds what the kernel held and then the end of the stream.
    let closed = false;
    socket.on("close", () => {
      closed = true;
    });
    socket.resume();
    await waitFor("the dropped stream to end", () => closed);
  });

  it("drops an /events client that reads slower than the market moves, counted as slow_events_reader", async () => {
    const { metrics, refusals, history, pages, subscribed } = countedFeed();
    // The write-stall bound (30 s by default) is far off: only the stream's own buffer bound cuts.
    server = await startStatusServer({
      port: 0,
      routes: { status: () => ({}), certificate: () => undefined, metrics: async () => "" },
      refusals,
      pages,
    });
    const socket = await eventsReaderThatReadsNothing(server.port, subscribed);

    // Rounds of a market with many resources (a few hundred KB a frame) faster than a client that
    // reads nothing takes them, until the stream cuts it off.
    const refused = async () => (await metrics.httpRefused.get()).values;
    for (let round = 0; subscribed() === 1 && round < 500; round++) await closeWideRound(history, round);
    await waitFor("the feed to stop with its only client gone", () => subscribed() === 0);
    expect(await refused()).toEqual([
      expect.objectContaining({ labels: { reason: "slow_events_reader" }, value: 1 }),
    ]);
    socket.destroy();
  });

  it("takes its bound on streams from the node's HTTP limits", async () => {
    const started = await dashboardServer({ maxStreams: 1 });
    server = started.server;
    const socket = connect(server.port, "127.0.0.1");
    socket.on("error", () => {});
    socket.write("GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".repeat(3));
    await waitFor("every pipelined request to be answered", () => started.answered.length === 3);
    expect([...started.answered].sort()).toEqual([200, 503, 503]);
    socket.destroy();
  });
});

/**
 * The dashboard's pages over a history that counts its subscribers (one per open /events stream),
 * with refusals counted in `metrics`.
 */
function countedFeed(options: DashboardFeedOptions = {}) {
  const metrics = createNodeMetrics();
  const refusals = createHttpRefusals({
    counter: metrics.httpRefused,
    log: pino({ level: "silent" }),
    limits: httpLimits(),
  });
  const history = createMarketHistory();
  let subscribers = 0;
  const counted: MarketHistory = {
    ...history,
    subscribe(listener) {
      subscribers++;
      const unsubscribe = history.subscribe(listener);
      return () => {
        subscribers--;
        unsubscribe();
      };
    },
  };
  const pages = dashboardRoutes(lonelyNode(counted), { refusals, ...options });
  return { metrics, refusals, history, pages, subscribed: () => subscribers };
}

/** What the dashboard reads of a node with no peers and no members, over `history`. */
function lonelyNode(history: MarketHistory): DashboardSource {
  return {
    terms: () => contract,
    termsOf: () => contract,
    history,
    metrics: createNodeMetrics(),
    status: () => ({ peerId: "12D3KooWexample", members: [] }) as unknown as NodeStatus,
    connectedPeers: () => [],
  };
}

/** An /events client that asks, then reads nothing (no 'data' listener), once its stream joined the feed. */
async function eventsReaderThatReadsNothing(port: number, subscribed: () => number): Promise<Socket> {
  const socket = connect(port, "127.0.0.1");
  socket.on("error", () => {});
  socket.write("GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  await waitFor("the stream to join the feed", () => subscribed() === 1);
  return socket;
}

/** A round of a market with many resources (a few hundred KB a frame) closes; resolves a tick later. */
async function closeWideRound(history: MarketHistory, round: number): Promise<void> {
  const prices = Array.from({ length: 20_000 }, (_, i) => i + 0.123456789);
  history.record({
    type: "round-closed",
    epoch: 0,
    round,
    prices,
    nextPrices: prices,
    residual: 1,
    converged: false,
  } as MachineAction);
  await new Promise((resolve) => setImmediate(resolve));
}
