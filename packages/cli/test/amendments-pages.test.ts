import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { fetchAmendments } from "../src/market-api-client.ts";

let server: Server | null = null;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = null;
});

const TERMS = "d".repeat(64);
const view = (i: number) => ({
  id: String(i).padStart(64, "0"),
  terms: { name: "amend", resources: [{ id: "cpu", capacity: 6 }], fees: { perUnit: 0.5, fixed: 0 } },
  proposer: `p${i}`,
  signers: [`p${i}`],
  needed: 3,
});

/** A node serving `count` amendments in pages of `size`, as GET /amendments pages them. */
async function pagingNode(count: number, size: number): Promise<string> {
  const all = Array.from({ length: count }, (_, i) => view(i));
  server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const after = url.searchParams.get("after");
    const amendments = all.filter((a) => after === null || a.id > after).slice(0, size);
    const last = amendments.at(-1)?.id ?? null;
    const next = last !== null && all.some((a) => a.id > last) ? last : null;
    res
      .writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify({ terms: TERMS, total: all.length, after, next, amendments }));
    // Between requests the node's list changes: the first amendment goes (say it took effect).
    all.shift();
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("fetchAmendments", () => {
  it("follows `next` through every page of GET /amendments, by id while the list changes", async () => {
    const got = await fetchAmendments(await pagingNode(250, 100));
    expect(got.terms).toBe(TERMS);
    expect(got.amendments.map((a) => a.proposer)).toEqual(Array.from({ length: 250 }, (_, i) => `p${i}`));
  });
});
