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
    const offset = Number(url.searchParams.get("offset") ?? 0);
    const amendments = all.slice(offset, offset + size);
    const next = offset + amendments.length < all.length ? offset + amendments.length : null;
    res
      .writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify({ terms: TERMS, total: all.length, offset, next, amendments }));
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("fetchAmendments", () => {
  it("follows `next` through every page of GET /amendments", async () => {
    const got = await fetchAmendments(await pagingNode(250, 100));
    expect(got.terms).toBe(TERMS);
    expect(got.amendments.map((a) => a.proposer)).toEqual(Array.from({ length: 250 }, (_, i) => `p${i}`));
  });
});
