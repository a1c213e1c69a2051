import type { Certificate } from "@walras/protocol";
import type { CertificateView } from "../../history/certificate-view.ts";
import type { MarketHistory } from "../../history/market-history.ts";
import { NOT_A_QUERY_INTEGER, queryInteger } from "../query-integer.ts";
import { requestTarget } from "../request-target.ts";
import { type RouteHandler, sendJson } from "../respond.ts";

/** Certificates a page holds at most (and the default): each carries a signature per member. */
export const CERTIFICATES_PAGE = 10;
/**
 * A page also stops before the certificate that would take it past this many bytes of JSON (the
 * first is always taken): at a few hundred members a certificate and its charges pass 100 KB.
 */
export const CERTIFICATES_PAGE_BYTES = 1024 * 1024;

export interface CertificateListSource {
  readonly history: Pick<MarketHistory, "certificates">;
  contractId(): string;
}

/**
 * GET /certificates?before=E&limit=N: the certificates this node holds, newest epoch first, each
 * with its view (verified against the terms it names, and charged under them). Paged by epoch,
 * not by position: a certificate certified between two requests, or an old one the bounded history
 * let go, moves no other from one page to the next, so following `next` (as `before`) lists each
 * once.
 */
export function certificateList(
  source: CertificateListSource,
  view: (certificate: Certificate) => CertificateView,
): RouteHandler {
  return (req, res) => {
    const url = requestTarget(req.url);
    if (url === null) return sendJson(res, 400, { error: "bad request target" });
    const before = queryInteger(url.searchParams, "before", Number.MAX_SAFE_INTEGER);
    if (before === null) return sendJson(res, 400, { error: NOT_A_QUERY_INTEGER("before") });
    const asked = queryInteger(url.searchParams, "limit", CERTIFICATES_PAGE);
    if (asked === null) return sendJson(res, 400, { error: NOT_A_QUERY_INTEGER("limit") });
    const limit = Math.min(CERTIFICATES_PAGE, Math.max(1, asked));
    // Held in the order they arrived, which catch-up can leave out of epoch order.
    const held = [...source.history.certificates()].sort((a, b) => b.commit.epoch - a.commit.epoch);
    const older = held.filter((c) => c.commit.epoch < before);
    const page: unknown[] = [];
    let bytes = 0;
    for (const certificate of older) {
      if (page.length === limit) break;
      const listed = { ...view(certificate), certificate };
      const size = Buffer.byteLength(JSON.stringify(listed));
      if (page.length > 0 && bytes + size > CERTIFICATES_PAGE_BYTES) break;
      bytes += size;
      page.push(listed);
    }
    const last = older[page.length - 1];
    sendJson(res, 200, {
      contractId: source.contractId(),
      total: held.length,
      next: page.length < older.length && last ? last.commit.epoch : null,
      certificates: page,
    });
  };
}
