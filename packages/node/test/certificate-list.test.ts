import type { Certificate, MachineAction } from "@walras/protocol";
import { afterEach, describe, expect, it } from "vitest";
import type { CertificateView } from "../src/history/certificate-view.ts";
import { createMarketHistory, type MarketHistory } from "../src/history/market-history.ts";
import { CERTIFICATES_PAGE, certificateList } from "../src/http/dashboard/certificate-list.ts";
import { type StatusServer, startStatusServer } from "../src/http/status-server.ts";

let server: StatusServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Stand-ins for certificates: only their epoch matters to paging. */
const certify = (history: MarketHistory, epoch: number) =>
  history.record({
    type: "certificate",
    certificate: { commit: { epoch }, signatures: [] } as unknown as Certificate,
    complete: true,
  } as MachineAction);

/** GET /certificates on a real server, over a history of stand-ins viewed with `pad` bytes each. */
async function serve(history: MarketHistory, pad = 0): Promise<string> {
  const view = (c: Certificate) =>
    ({ epoch: c.commit.epoch, pad: "x".repeat(pad) }) as unknown as CertificateView;
  server = await startStatusServer({
    port: 0,
    routes: { status: () => ({}), certificate: () => undefined, metrics: async () => "" },
    pages: { "/certificates": certificateList({ history, contractId: () => "c".repeat(64) }, view) },
  });
  return server.url;
}

interface Page {
  contractId: string;
  total: number;
  next: number | null;
  certificates: { epoch: number; certificate: Certificate }[];
}

/** Follows `next` from the first page; `between` runs after each page. */
async function walk(url: string, between: () => void = () => {}): Promise<Page[]> {
  const pages: Page[] = [];
  let query = "";
  for (;;) {
    const res = await fetch(`${url}/certificates${query}`);
    expect(res.status).toBe(200);
    const page = (await res.json()) as Page;
    pages.push(page);
    between();
    if (typeof page.next !== "number") return pages;
    query = `?before=${page.next}`;
  }
}

describe("GET /certificates", () => {
  it("pages newest first; following next lists each once, though certificates arrive meanwhile", async () => {
    const history = createMarketHistory();
    // Out of epoch order, as catch-up can record them.
    const epochs = Array.from({ length: 25 }, (_, i) => (i * 7) % 25);
    for (const epoch of epochs) certify(history, epoch);
    const url = await serve(history);

    const pages = await walk(url);
    expect(pages.map((p) => p.certificates.length)).toEqual([CERTIFICATES_PAGE, CERTIFICATES_PAGE, 5]);
    expect(pages[0]).toMatchObject({ contractId: "c".repeat(64), total: 25 });
    const listed = pages.flatMap((p) => p.certificates.map((c) => c.epoch));
    expect(listed).toEqual([...epochs].sort((a, b) => b - a));

    // A newer certificate after each page moves nothing from one page to the next.
    let newer = 100;
    const during = (await walk(url, () => certify(history, newer++))).flatMap((p) =>
      p.certificates.map((c) => c.epoch),
    );
    expect(new Set(during).size).toBe(during.length);
    expect(during.filter((e) => e < 100)).toEqual(listed);

    const small = (await (await fetch(`${url}/certificates?limit=3`)).json()) as Page;
    expect(small.certificates.map((c) => c.epoch)).toEqual([102, 101, 100]);
    expect(small.next).toBe(100);
    const past = (await (await fetch(`${url}/certificates?before=0`)).json()) as Page;
    expect(past).toMatchObject({ next: null, certificates: [] });
  });

  it("cuts a page at 1 MiB of certificates, and following next still lists each once", async () => {
    const history = createMarketHistory();
    for (let epoch = 0; epoch < 12; epoch++) certify(history, epoch);
    const url = await serve(history, 300_000);
    const pages = await walk(url);
    expect(pages[0]?.certificates).toHaveLength(3);
    expect(pages.flatMap((p) => p.certificates.map((c) => c.epoch))).toEqual(
      Array.from({ length: 12 }, (_, i) => 11 - i),
    );
  });

  it("answers a before or limit that is not a safe non-negative integer 400, one line naming it", async () => {
    const url = await serve(createMarketHistory());
    for (const [query, name] of [
      ["before=-1", "before"],
      ["before=abc", "before"],
      ["before=9007199254740992", "before"],
      ["limit=1.5", "limit"],
      ["before=3&limit=1e3", "limit"],
    ] as const) {
      const res = await fetch(`${url}/certificates?${query}`);
      expect(res.status, query).toBe(400);
      const body = await res.text();
      expect(body, query).toMatch(/^\{"error":"[^\n]+"\}\n$/);
      expect((JSON.parse(body) as { error: string }).error, query).toMatch(new RegExp(`^${name}: `));
    }
  });
});
