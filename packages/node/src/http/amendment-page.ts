import type { AmendmentView } from "@walras/protocol";

/** Amendments a `GET /amendments` page carries at most. */
export const AMENDMENT_PAGE = 100;

/**
 * A page stops growing past this many bytes of amendments. Each carries whole terms, which under an
 * allowlist name every allowed peer (~55 bytes each): 100 amendments of a 1,000-key list are ~5 MB.
 */
export const AMENDMENT_PAGE_BYTES = 1024 * 1024;

/**
 * The amendments from `start`, at most `count`, stopped before the one that would take their JSON
 * past `maxBytes`; the first is taken whatever its size, so a page always moves on.
 */
export function cutAmendmentPage(
  amendments: readonly AmendmentView[],
  start: number,
  count: number,
  maxBytes: number = AMENDMENT_PAGE_BYTES,
): AmendmentView[] {
  const page: AmendmentView[] = [];
  let bytes = 0;
  for (let i = start; i < amendments.length && page.length < count; i++) {
    const amendment = amendments[i] as AmendmentView;
    const size = Buffer.byteLength(JSON.stringify(amendment));
    if (page.length > 0 && bytes + size > maxBytes) break;
    bytes += size;
    page.push(amendment);
  }
  return page;
}
