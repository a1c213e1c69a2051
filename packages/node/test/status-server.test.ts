import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type MarketApiSource, marketApiRoutes } from "../src/http/market-api.ts";
import { type StatusServer, startStatusServer } from "../src/http/status-server.ts";
import { createNodeMetrics } from "../src/metrics/node-metrics.ts";

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
