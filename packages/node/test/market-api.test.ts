import type { AmendmentView, LedgerEntry } from "@walras/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { AMENDMENT_PAGE_BYTES } from "../src/http/amendment-page.ts";
import { type MarketApiSource, marketApiRoutes } from "../src/http/market-api.ts";
import { type StatusServer, startStatusServer } from "../src/http/status-server.ts";
import { LEDGER_PAGE_BYTES } from "../src/ledger/ledger-page-cut.ts";

let server: StatusServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Stand-ins for certificates: only their size matters to paging. */
const entry = (i: number, bytes: number) =>
  ({ type: "certificate", i, pad: "x".repeat(bytes) }) as unknown as LedgerEntry;

async function serveLedger(entries: LedgerEntry[]): Promise<string> {
  return serve({
    token: "t",
    ledger: () => ({ contract: "c".repeat(64), entries }),
  } as unknown as MarketApiSource);
}

async function serve(source: MarketApiSource): Promise<string> {
  await server?.close();
  server = await startStatusServer({
    port: 0,
    routes: { status: () => ({}), certificate: () => undefined, metrics: async () => "" },
    api: { routes: marketApiRoutes(source), token: "t" },
  });
  return server.url;
}

interface Page {
  total: number;
  offset: number;
  next: number | null;
  entries: { i: number }[];
}

describe("GET /ledger", () => {
  it("cuts a page at 1 MiB of entries, and following `next` gives every entry exactly once", async () => {
    // 250 entries of ~40 KB: 100 of them made a page of ~4 MB.
    const entries = Array.from({ length: 250 }, (_, i) => entry(i, 40_000));
    // One entry bigger than a page comes alone, and the walk moves past it.
    entries.splice(120, 0, entry(1_000, 2 * LEDGER_PAGE_BYTES));
    const url = await serveLedger(entries);
    const seen: number[] = [];
    const pages: Page[] = [];
    for (let offset: number | null = 0; offset !== null; ) {
      const res = await fetch(`${url}/ledger?offset=${offset}`);
      expect(res.status).toBe(200);
      const page = (await res.json()) as Page;
      pages.push(page);
      expect(page.offset).toBe(offset);
      expect(page.total).toBe(entries.length);
      const bytes = page.entries.reduce((n, e) => n + Buffer.byteLength(JSON.stringify(e)), 0);
      if (page.entries.length > 1) expect(bytes).toBeLessThanOrEqual(LEDGER_PAGE_BYTES);
      seen.push(...page.entries.map((e) => e.i));
      offset = page.next;
    }
    expect(seen).toEqual(entries.map((e) => (e as unknown as { i: number }).i));
    expect(pages.some((p) => p.entries.length === 1 && p.entries[0]?.i === 1_000)).toBe(true);
    // A limit still caps small entries at 100 a page.
    const small = await serveLedger(Array.from({ length: 150 }, (_, i) => entry(i, 10)));
    const first = (await (await fetch(`${small}/ledger`)).json()) as Page;
    expect(first.entries).toHaveLength(100);
    expect(first.next).toBe(100);
  });
});

/** Stand-ins for amendment views: only their size matters to paging. */
const amendment = (i: number, bytes: number) =>
  ({ id: String(i).padStart(64, "0"), i, pad: "x".repeat(bytes) }) as unknown as AmendmentView;

describe("GET /amendments", () => {
  it("pages by id: 100 at most, cut at 1 MiB, and following `next` gives each once while the list changes", async () => {
    const all = Array.from({ length: 230 }, (_, i) => amendment(i, i < 100 ? 10 : 30_000));
    let held = all;
    const url = await serve({
      token: "t",
      terms: () => ({ id: "d".repeat(64) }),
      amendments: () => held,
    } as unknown as MarketApiSource);
    const seen: number[] = [];
    const sizes: number[] = [];
    let after: string | null = null;
    do {
      const res = await fetch(`${url}/amendments${after === null ? "" : `?after=${after}`}`);
      expect(res.status).toBe(200);
      const page = (await res.json()) as {
        terms: string;
        total: number;
        after: string | null;
        next: string | null;
        amendments: { i: number }[];
      };
      expect(page).toMatchObject({ terms: "d".repeat(64), total: held.length, after });
      const bytes = page.amendments.reduce((n, a) => n + Buffer.byteLength(JSON.stringify(a)), 0);
      expect(bytes).toBeLessThanOrEqual(AMENDMENT_PAGE_BYTES);
      sizes.push(page.amendments.length);
      seen.push(...page.amendments.map((a) => a.i));
      after = page.next;
      // Between requests two amendments already read go (their proposers proposed anew, say): an
      // offset into the list would now skip two unread ones.
      held = held.filter((a) => !seen.slice(0, 2 * sizes.length).includes((a as unknown as { i: number }).i));
    } while (after !== null);
    expect(seen).toEqual(all.map((_, i) => i));
    // 100 small ones, then ~34 of 30 KB a page.
    expect(sizes[0]).toBe(100);
    expect(Math.max(...sizes.slice(1))).toBeLessThan(40);
  });

  it("refuses an `after` that is no amendment id", async () => {
    const url = await serve({
      token: "t",
      terms: () => ({ id: "d".repeat(64) }),
      amendments: () => [],
    } as unknown as MarketApiSource);
    expect((await fetch(`${url}/amendments?after=12`)).status).toBe(400);
  });
});
