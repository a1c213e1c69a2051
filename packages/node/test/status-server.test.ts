import { connect, type Socket } from "node:net";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { httpLimits } from "../src/http/http-limits.ts";
import { createHttpRefusals, type HttpRefusals } from "../src/http/http-refusals.ts";
import { type MarketApiSource, marketApiRoutes } from "../src/http/market-api.ts";
import { type StatusServer, type StatusServerInit, startStatusServer } from "../src/http/status-server.ts";
import { createNodeMetrics, type NodeMetrics } from "../src/metrics/node-metrics.ts";
import { startSlowReader } from "./slow-reader-process.ts";
import { waitFor } from "./wait-for.ts";

let server: StatusServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("status server", () => {
  it("serves what the routes return, and 404/405 otherwise", async () => {
    const metrics = createNodeMetrics();
    metrics.messagesAccepted.inc({ kind: "demand" }, 3);
    metrics.epoch.set(7);
    let certificate: unknown;
    const status = { peerId: "12D3KooWexample", epoch: 7, round: 2 };
    server = await startStatusServer({
      port: 0,
      routes: { status: () => status, certificate: () => certificate, metrics: () => metrics.render() },
    });

    const statusRes = await fetch(`${server.url}/status`);
    expect(statusRes.status).toBe(200);
    expect(statusRes.headers.get("content-type")).toContain("application/json");
    expect(await statusRes.json()).toEqual(status);

    expect((await fetch(`${server.url}/certificate`)).status).toBe(404);
    certificate = { epoch: 7, signatures: ["a", "b"] };
    const certRes = await fetch(`${server.url}/certificate`);
    expect(certRes.status).toBe(200);
    expect(await certRes.json()).toEqual(certificate);

    const metricsRes = await fetch(`${server.url}/metrics`);
    expect(metricsRes.headers.get("content-type")).toContain("text/plain");
    const text = await metricsRes.text();
    expect(text).toContain('walras_messages_accepted_total{kind="demand"} 3');
    expect(text).toContain("walras_epoch 7");
    expect(text).toContain("# TYPE walras_time_to_agreement_seconds histogram");

    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    const post = await fetch(`${server.url}/status`, { method: "POST", body: "{}" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
  });

  it("answers 500 with the message when a route throws, and keeps serving", async () => {
    server = await startStatusServer({
      port: 0,
      routes: {
        status: () => {
          throw new Error("state machine not ready");
        },
        certificate: () => undefined,
        metrics: async () => "",
      },
    });
    const res = await fetch(`${server.url}/status`);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: "state machine not ready" });
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it("on loopback answers only requests naming this machine in Host (DNS rebinding), 421 otherwise", async () => {
    server = await startStatusServer({ port: 0, routes: simpleRoutes });
    const port = server.port;
    for (const host of [
      "127.0.0.1",
      `127.0.0.1:${port}`,
      "localhost",
      `LOCALHOST:${port}`,
      `[::1]:${port}`,
    ]) {
      const res = await rawRequest(
        port,
        `GET /status HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      );
      expect(res.status, host).toBe(200);
    }
    for (const host of ["evil.example", `evil.example:${port}`, `127.0.0.1.evil.example:${port}`]) {
      for (const path of ["/status", "/metrics", "/ledger", "/events", "/"]) {
        const res = await rawRequest(
          port,
          `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
        );
        expect(res.status, `${host} ${path}`).toBe(421);
        expect(res.body).toMatch(/^\{"error":"[^\n]+"\}\n$/);
      }
    }
  });

  it("does not check Host when the operator binds it to a non-loopback address", async () => {
    server = await startStatusServer({ port: 0, host: "0.0.0.0", routes: simpleRoutes });
    const res = await rawRequest(
      server.port,
      "GET /status HTTP/1.1\r\nHost: node.example:8080\r\nConnection: close\r\n\r\n",
    );
    expect(res.status).toBe(200);
  });
});

describe("request targets", () => {
  it("answers 400 to a target that is not a URL or starts with //, and serves absolute-form", async () => {
    server = await startStatusServer({
      port: 0,
      routes: simpleRoutes,
      pages: {
        "/": (_req, res) => {
          res.end("page");
        },
      },
    });
    const get = (target: string) =>
      rawRequest(
        (server as StatusServer).port,
        `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
      );
    for (const target of ["http://a:99999/status", "http://[bad/x", "//status", "//", "*"]) {
      const res = await get(target);
      expect(res.status, target).toBe(400);
      expect(JSON.parse(res.body), target).toEqual({ error: "bad request target" });
    }
    expect((await get("http://127.0.0.1/status")).status).toBe(200);
    expect((await get("/status?x=1")).status).toBe(200);
  });
});

describe("GET /ledger's query", () => {
  it("refuses an offset or limit that is not a safe non-negative integer, naming it", async () => {
    const ledger = { contract: "c", entries: [] };
    const source = { ledger: () => ledger } as unknown as MarketApiSource;
    server = await startStatusServer({
      port: 0,
      routes: simpleRoutes,
      api: { token: "t", routes: marketApiRoutes(source) },
    });
    const url = server.url;
    for (const [query, name] of [
      ["offset=100000000000000000000000", "offset"],
      ["offset=9007199254740992", "offset"],
      ["offset=1.5", "offset"],
      ["offset=-1", "offset"],
      ["limit=1e3", "limit"],
      ["offset=0&limit=100000000000000000000000", "limit"],
    ] as const) {
      const res = await fetch(`${url}/ledger?${query}`);
      expect(res.status, query).toBe(400);
      expect(((await res.json()) as { error: string }).error, query).toMatch(new RegExp(`^${name}: `));
    }
    const ok = await fetch(`${url}/ledger?offset=9007199254740991&limit=5`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ offset: 9007199254740991, next: null, entries: [] });
  });
});

describe("connection and request limits", () => {
  /** Refusals counted in `metrics` and logged into `lines`, as the node wires them. */
  const refusalsInto = (metrics: NodeMetrics, lines: string[], limits: Parameters<typeof httpLimits>[0]) =>
    createHttpRefusals({
      counter: metrics.httpRefused,
      log: pino({ level: "warn" }, { write: (line: string) => void lines.push(line) }),
      limits: httpLimits(limits),
    });
  const refused = async (metrics: NodeMetrics, reason: string) =>
    (await metrics.httpRefused.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;
  /**
   * A server under `limits` whose refusals are counted in `metrics` and logged into `lines`;
   * `more` adds pages or an API (given the refusals, which the API's body limit reports to).
   */
  const startLimited = async (
    limits: Parameters<typeof httpLimits>[0],
    more: (refusals: HttpRefusals) => Partial<StatusServerInit> = () => ({}),
  ) => {
    const metrics = createNodeMetrics();
    const lines: string[] = [];
    const refusals = refusalsInto(metrics, lines, limits);
    const started = await startStatusServer({
      port: 0,
      routes: simpleRoutes,
      limits,
      refusals,
      ...more(refusals),
    });
    server = started;
    return { metrics, lines, port: started.port, url: started.url };
  };

  it("cuts off a client that trickles its headers (slow-loris) and serves a normal one meanwhile", async () => {
    const limits = { headersTimeoutMs: 300, requestTimeoutMs: 600 };
    let chunksWritten = 0;
    const { metrics, lines, port } = await startLimited(limits, () => ({
      pages: {
        // A response that never ends, as /events is: the request timeout must not cut it.
        "/stream": (_req, res) => {
          res.writeHead(200, { "content-type": "text/plain" });
          const tick = setInterval(() => {
            res.write("tick\n");
            chunksWritten++;
          }, 50);
          res.on("close", () => clearInterval(tick));
        },
      },
    }));
    const stream = openSocket(port);
    stream.socket.write("GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");

    const slow = openSocket(port);
    const startedAt = Date.now();
    slow.socket.write("GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
    // One more byte of the header every 50 ms: always active, never done.
    const trickle = setInterval(() => slow.socket.writable && slow.socket.write("a"), 50);
    try {
      // A normal client is served while the slow one trickles.
      expect((await rawRequest(port, GET_STATUS)).status).toBe(200);
      await waitFor("the slow client to be disconnected", () => slow.closed, { timeoutMs: 3_000 });
    } finally {
      clearInterval(trickle);
    }
    expect(Date.now() - startedAt).toBeLessThan(3_000);
    expect(slow.received()).toMatch(/^HTTP\/1\.1 408 [^\r]*\r\n[\s\S]*\r\n\r\n\{"error":"[^\n]+"\}\n$/);
    expect(await refused(metrics, "timeout")).toBe(1);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toMatchObject({ reason: "timeout", headersTimeoutMs: 300 });

    // The endless response goes on past the request timeout: that bounds receiving a request only.
    const before = chunksWritten;
    await waitFor("the stream to outlive the request timeout", () => chunksWritten >= before + 15);
    expect(stream.closed).toBe(false);
    expect(stream.received()).toContain("tick");
    stream.socket.destroy();
  });

  it("answers a connection over the cap 503 with a one-line reason, counts and logs it once", async () => {
    const limits = { maxConnections: 2 };
    const { metrics, lines, port } = await startLimited(limits);
    // Two keep-alive connections, each served once and held open.
    const held = [openSocket(port), openSocket(port)];
    for (const h of held) h.socket.write("GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    await waitFor("both held connections served", () => held.every((h) => h.received().includes("200 OK")));

    for (let i = 0; i < 3; i++) {
      const res = await rawRequest(port, GET_STATUS);
      expect(res.status).toBe(503);
      expect(res.body).toMatch(/^\{"error":"this node has 2 HTTP connections open already[^\n]*"\}\n$/);
    }
    expect(await refused(metrics, "connections")).toBe(3);
    // One line for the episode, however many were refused.
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toMatchObject({ reason: "connections", maxConnections: 2 });
    // The held connections are still served.
    held[0]?.socket.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    await waitFor(
      "a held connection served again",
      () => (held[0]?.received().match(/200 OK/g) ?? []).length === 2,
    );

    // A place freed is a place taken again.
    held[1]?.socket.destroy();
    await waitFor(
      "a new connection admitted",
      async () => (await rawRequest(port, GET_STATUS)).status === 200,
    );
    held[0]?.socket.destroy();
  });

  it("refuses a body whose Content-Length passes the limit before reading it, 413, counted", async () => {
    const metrics = createNodeMetrics();
    const lines: string[] = [];
    const limits = { maxBodyBytes: 1_000 };
    const refusals = refusalsInto(metrics, lines, limits);
    server = await startStatusServer({
      port: 0,
      routes: simpleRoutes,
      refusals,
      api: {
        token: TOKEN,
        routes: marketApiRoutes({} as MarketApiSource, { maxBodyBytes: 1_000, refusals }),
      },
    });
    // Headers only: the body announced is never sent, so only the announcement can be refused.
    const res = await rawRequest(
      server.port,
      `POST /amendments HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\n` +
        `Content-Type: application/json\r\nContent-Length: 1001\r\nConnection: close\r\n\r\n`,
    );
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toEqual({ error: "request body over 1000 bytes" });
    expect(await refused(metrics, "body_too_large")).toBe(1);
  });

  it("closes the connection after a 413 for an announced body over the limit, counting one refusal", async () => {
    // A short request timeout: a server that went on draining the body would time it out (408)
    // well within the wait below.
    const limits = { maxBodyBytes: 1_000, headersTimeoutMs: 200, requestTimeoutMs: 400 };
    const { metrics, port } = await startLimited(limits, (refusals) => ({
      api: {
        token: TOKEN,
        routes: marketApiRoutes({} as MarketApiSource, { maxBodyBytes: 1_000, refusals }),
      },
    }));
    const client = openSocket(port);
    client.socket.write(
      `POST /amendments HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\n` +
        `Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n`,
    );
    // The body, a byte every 20 ms: a client that keeps sending what it announced.
    const trickle = setInterval(() => client.socket.writable && client.socket.write("x"), 20);
    try {
      await waitFor("the server to close the connection", () => client.closed, { timeoutMs: 5_000 });
    } finally {
      clearInterval(trickle);
    }
    const received = client.received();
    expect(received).toMatch(/^HTTP\/1\.1 413 /);
    const head = received.slice(0, received.indexOf("\r\n\r\n") + 2).toLowerCase();
    expect(head).toContain("\r\nconnection: close\r\n");
    // One response, not a 408 after it.
    expect(received.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(await refused(metrics, "body_too_large")).toBe(1);
    expect(await refused(metrics, "timeout")).toBe(0);
  });

  it("closes the connection after answering a request whose body it did not read, counting no timeout", async () => {
    const limits = { headersTimeoutMs: 200, requestTimeoutMs: 400 };
    const { metrics, port } = await startLimited(limits, () => ({
      api: { token: TOKEN, routes: marketApiRoutes({} as MarketApiSource) },
    }));
    // No token (401), no route (404), a read-only route (405): each answered before the body is in.
    for (const [path, status] of [
      ["/amendments", 401],
      ["/nope", 404],
      ["/status", 405],
    ] as const) {
      const client = openSocket(port);
      client.socket.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n`);
      const trickle = setInterval(() => client.socket.writable && client.socket.write("x"), 20);
      try {
        await waitFor(`the connection after ${path} to close`, () => client.closed, { timeoutMs: 5_000 });
      } finally {
        clearInterval(trickle);
      }
      const received = client.received();
      expect(received.match(/HTTP\/1\.1 \d{3}/g), path).toEqual([`HTTP/1.1 ${status}`]);
    }
    expect(await refused(metrics, "timeout")).toBe(0);
    // A request without a body keeps its connection.
    const kept = openSocket(port);
    kept.socket.write(
      "GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    );
    await waitFor(
      "both requests answered on one connection",
      () => (kept.received().match(/200 OK/g) ?? []).length === 2,
    );
    expect(kept.closed).toBe(false);
    kept.socket.destroy();
  });

  it("drops a client that stops reading a large response, counted; a client that reads gets it all", async () => {
    // The reading client (in this process, slow on a loaded machine) need not take the whole page
    // within it: what the kernel takes of the one write counts as it is taken.
    const limits = { writeStallTimeoutMs: 2_000 };
    // Larger than the kernel's buffers on both ends: part of it has to wait in the node.
    const page = Buffer.alloc(8 * 1024 * 1024, "x");
    const { metrics, lines, port, url } = await startLimited(limits, () => ({
      pages: {
        "/big": (_req, res) => {
          res.writeHead(200, { "content-type": "text/plain", "content-length": page.length });
          res.end(page);
        },
      },
    }));
    // Asks, then reads nothing: no 'data' listener, so the socket is never read.
    const stalled = connect(port, "127.0.0.1");
    stalled.on("error", () => {});
    stalled.write("GET /big HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");

    const read = await fetch(`${url}/big`);
    expect((await read.arrayBuffer()).byteLength).toBe(page.length);

    await waitFor("the client that stopped reading to be dropped", async () => {
      return (await refused(metrics, "stalled_reader")) === 1;
    });
    // Reading again, it finds what the kernel held and then the end: the rest was let go.
    let bytes = 0;
    let closed = false;
    stalled.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
    });
    stalled.on("close", () => {
      closed = true;
    });
    await waitFor("the dropped connection to end", () => closed);
    expect(bytes).toBeLessThan(page.length);
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      reason: "stalled_reader",
      writeStallTimeoutMs: 2_000,
    });
  });

  it("keeps a client that reads steadily but slower than the node writes (its buffer grows between looks)", async () => {
    const writers = new Set<NodeJS.Timeout>();
    const { metrics, port } = await startLimited({ writeStallTimeoutMs: 1_500 }, () => ({
      pages: {
        // About 6 MB/s, without waiting for the client: its buffer in the node only grows.
        "/stream": (_req, res) => {
          res.writeHead(200, { "content-type": "text/event-stream" });
          const chunk = Buffer.alloc(64 * 1024, "x");
          const writer = setInterval(() => res.write(chunk), 10);
          writers.add(writer);
          res.on("close", () => clearInterval(writer));
        },
      },
    }));
    // A quarter as fast, in a process of its own (slow-reader-process.ts says why).
    const client = startSlowReader(port, "/stream");
    try {
      // Many times what the kernel's buffers hold, read over several write-stall limits.
      await waitFor(
        "the slow client to read 6 MiB, or be dropped",
        () => client.read >= 6 * 1024 * 1024 || client.closed,
      );
      expect(await refused(metrics, "stalled_reader")).toBe(0);
      expect(client.closed).toBe(false);
    } finally {
      client.stop();
      for (const writer of writers) clearInterval(writer);
    }
  });

  it("refuses limits that are not positive integers, or a headers timeout over the request's", () => {
    expect(() => httpLimits({ maxConnections: 0 })).toThrow(/maxConnections/);
    expect(() => httpLimits({ keepAliveTimeoutMs: 1.5 })).toThrow(/keepAliveTimeoutMs/);
    expect(() => httpLimits({ headersTimeoutMs: 20_000, requestTimeoutMs: 10_000 })).toThrow(
      /headersTimeoutMs/,
    );
    expect(httpLimits({ maxConnections: undefined })).toEqual(httpLimits());
  });
});

const TOKEN = "ab".repeat(32);
const GET_STATUS = "GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";

/** A loopback connection that records what it receives and whether it has closed. */
function openSocket(port: number): { socket: Socket; closed: boolean; received(): string } {
  const socket = connect(port, "127.0.0.1");
  const chunks: Buffer[] = [];
  const state = { socket, closed: false, received: () => Buffer.concat(chunks).toString() };
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  socket.on("error", () => {});
  socket.on("close", () => {
    state.closed = true;
  });
  return state;
}

const simpleRoutes = { status: () => ({ ok: 1 }), certificate: () => undefined, metrics: async () => "" };

/** Sends `request` as written on a fresh loopback connection; the first response's status and body. */
export async function rawRequest(port: number, request: string): Promise<{ status: number; body: string }> {
  const socket = connect(port, "127.0.0.1");
  socket.write(request);
  const chunks: Buffer[] = [];
  for await (const chunk of socket) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString();
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
  return { status, body: text.slice(text.indexOf("\r\n\r\n") + 4) };
}
