import { afterEach, describe, expect, it } from "vitest";
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
});
