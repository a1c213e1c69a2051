import { gunzipSync } from "node:zlib";
import type { Certificate, Contract } from "@walras/protocol";
import { type Cluster, waitFor } from "@walras/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCertificateViews } from "../src/history/certificate-view.ts";
import type { SnapshotFrame } from "../src/http/dashboard/dashboard-frames.ts";
import { startOneMemberMarket } from "./one-member-market.ts";

let contract: Contract;
let cluster: Cluster;
let url: string;

/** Reads Server-Sent Events frames from `path` until `enough` says so. */
async function readEvents(
  path: string,
  enough: (frames: { event: string; data: unknown }[]) => boolean,
): Promise<{ event: string; data: unknown }[]> {
  const abort = new AbortController();
  const res = await fetch(`${url}${path}`, { signal: abort.signal });
  expect(res.headers.get("content-type")).toContain("text/event-stream");
  const reader = (res.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
  const frames: { event: string; data: unknown }[] = [];
  let buffer = "";
  try {
    while (!enough(frames)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`${path}: stream ended after ${frames.length} frames`);
      buffer += value;
      let end = buffer.indexOf("\n\n");
      while (end >= 0) {
        const lines = buffer.slice(0, end).split("\n");
        buffer = buffer.slice(end + 2);
        const event = lines.find((l) => l.startsWith("event: "))?.slice(7);
        const data = lines.find((l) => l.startsWith("data: "))?.slice(6);
        if (event && data) frames.push({ event, data: JSON.parse(data) });
        end = buffer.indexOf("\n\n");
      }
    }
  } finally {
    abort.abort();
  }
  return frames;
}

describe("the dashboard's routes on a live node", () => {
  beforeAll(async () => {
    ({ contract, cluster, url } = await startOneMemberMarket("dashboard-routes"));
  });
  afterAll(async () => cluster?.stop());

  it("serves the page with a strict content policy, gzipped and revalidated by ETag", async () => {
    const plain = await fetch(`${url}/`, { headers: { "accept-encoding": "identity" } });
    expect(plain.status).toBe(200);
    expect(plain.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(plain.headers.get("content-security-policy")).toContain("default-src 'none'");
    const html = await plain.text();
    expect(html).toContain('<script type="module" src="/assets/main.js">');

    // fetch() would decompress by itself: node:http shows the bytes as sent.
    const zipped = await rawGet("/", { "accept-encoding": "gzip" });
    expect(zipped.headers["content-encoding"]).toBe("gzip");
    expect(zipped.body.length).toBeLessThan(Buffer.byteLength(html));
    expect(gunzipSync(zipped.body).toString()).toBe(html);

    const etag = plain.headers.get("etag") as string;
    expect((await fetch(`${url}/`, { headers: { "if-none-match": etag } })).status).toBe(304);
  });

  it("serves every asset the page and its modules load, all from the node", async () => {
    const html = await (await fetch(`${url}/`)).text();
    const referenced = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string);
    expect(referenced.filter((r) => /^(https?:)?\/\//.test(r))).toEqual([]);
    const modules = ["/assets/main.js"];
    const seen = new Set<string>();
    const queue = [...referenced.filter((r) => r.startsWith("/assets/")), ...modules];
    while (queue.length > 0) {
      const path = queue.shift() as string;
      if (seen.has(path)) continue;
      seen.add(path);
      const res = await fetch(`${url}${path}`);
      expect(res.status, path).toBe(200);
      const type = res.headers.get("content-type") ?? "";
      const text = await res.text();
      if (path.endsWith(".js")) {
        expect(type).toContain("text/javascript");
        for (const m of text.matchAll(/from "\.\/([\w-]+\.js)"/g)) queue.push(`/assets/${m[1]}`);
      }
      if (path.endsWith(".css")) expect(type).toContain("text/css");
    }
    expect(seen).toContain("/assets/uPlot.min.js");
    expect(seen).toContain("/assets/panels.js");
    expect((await fetch(`${url}/assets/nope.js`)).status).toBe(404);
  });

  it("lists the certificates it holds, verified against its contract, with each member's charges", async () => {
    const node = cluster.nodes[0];
    const body = (await (await fetch(`${url}/certificates`)).json()) as {
      contractId: string;
      certificates: {
        epoch: number;
        digest: string;
        verification: { ok: boolean };
        charges: { members: { agent: string; fixedFee: number }[] };
        certificate: Certificate;
      }[];
    };
    expect(body.contractId).toBe(node?.contractId);
    const latest = body.certificates[0];
    expect(latest?.digest).toBe(node?.status().certificate?.digest);
    expect(latest?.verification.ok).toBe(true);
    expect(latest?.charges.members.map((m) => m.agent)).toEqual([node?.peerId]);
    // One agent alone below capacity pays the fixed fee g = 0.25 of this contract.
    expect(latest?.charges.members[0]?.fixedFee).toBe(0.25);

    // The same certificate with a price changed no longer carries valid signatures.
    const cert = latest?.certificate as Certificate;
    const forged = { ...cert, commit: { ...cert.commit, prices: [cert.commit.prices[0] as number] } };
    forged.commit.prices[0] = (forged.commit.prices[0] as number) + 1;
    const view = createCertificateViews(() => contract)(forged);
    expect(view.verification).toMatchObject({ ok: false });
    if (!view.verification.ok) expect(view.verification.error).toMatch(/does not verify/);
  });

  it("streams a snapshot of the node's state, then live status frames", async () => {
    const frames = await readEvents("/events", (f) => f.some((x) => x.event === "live"));
    const node = cluster.nodes[0];
    expect(frames[0]?.event).toBe("snapshot");
    const snapshot = frames[0]?.data as SnapshotFrame;
    expect(snapshot.contract).toEqual(contract);
    expect(snapshot.status.peerId).toBe(node?.peerId);
    expect(snapshot.members).toEqual(node?.status().members);
    expect(snapshot.rounds.length).toBeGreaterThan(0);
    expect(snapshot.rounds.at(-1)?.converged).toBe(true);
    expect(snapshot.epochs[0]?.fromSeq).toBe(0);
    expect(snapshot.certificates[0]?.verification.ok).toBe(true);
    expect(snapshot.traffic.accepted).toEqual(expect.any(Object));
    const live = frames.find((f) => f.event === "live")?.data as { status: { peerId: string } };
    expect(live.status.peerId).toBe(node?.peerId);
  });
});

// The count of open dashboards must start at zero: a node of its own, whatever other tests leave
// open (or are still closing) on the shared one.
describe("the dashboard's places on a node of its own", () => {
  let ownCluster: Cluster | undefined;
  let own: string;
  beforeAll(async () => {
    ({ cluster: ownCluster, url: own } = await startOneMemberMarket("dashboard-places"));
  });
  afterAll(async () => ownCluster?.stop());

  it("turns away dashboards beyond 32 open ones (503), and serves again once they close", async () => {
    const aborts = Array.from({ length: 32 }, () => new AbortController());
    const open = await Promise.all(aborts.map((a) => fetch(`${own}/events`, { signal: a.signal })));
    expect(open.map((r) => r.status)).toEqual(open.map(() => 200));
    const turnedAway = await fetch(`${own}/events`);
    expect(turnedAway.status).toBe(503);
    expect(turnedAway.headers.get("retry-after")).toBe("10");
    for (const a of aborts) a.abort();
    await waitFor(
      async () => {
        const a = new AbortController();
        const res = await fetch(`${own}/events`, { signal: a.signal });
        a.abort();
        return res.status === 200;
      },
      { what: "the closed dashboards to free their places" },
    );
  });
});

async function rawGet(
  path: string,
  headers: Record<string, string>,
): Promise<{ headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  const { request } = await import("node:http");
  return new Promise((resolve, reject) => {
    request(`${url}${path}`, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
    })
      .on("error", reject)
      .end();
  });
}
