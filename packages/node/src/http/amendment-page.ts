import type { AmendmentView } from "@walras/protocol";

/** An amendment's id, the digest of its terms: what `after` names. */
export const AMENDMENT_ID = /^[0-9a-f]{64}$/;

/** Amendments a `GET /amendments` page carries at most. */
export const AMENDMENT_PAGE = 100;

/**
 * A page stops growing past this many bytes of amendments. Each carries whole terms, which under an
 * allowlist name every allowed peer (~55 bytes each): 100 amendments of a 1,000-key list are ~5 MB.
 */
export const AMENDMENT_PAGE_BYTES = 1024 * 1024;

/**
 * The amendments whose id comes after `after` (all of them for null), at most `count`, stopped
 * before the one that would take their JSON past `maxBytes`; the first is taken whatever its size,
 * so a page always moves on. `amendments` is in id order (Amendments.pending), so a cursor by id
 * stays put while amendments come and go between requests: an offset would skip or repeat some.
 */
export function cutAmendmentPage(
  amendments: readonly AmendmentView[],
  after: string | null,
  count: number,
  maxBytes: number = AMENDMENT_PAGE_BYTES,
): AmendmentView[] {
  const page: AmendmentView[] = [];
  let bytes = 0;
  for (const amendment of amendments) {
    if (page.length >= count) break;
    if (after !== null && amendment.id <= after) continue;
    const size = Buffer.byteLength(JSON.stringify(amendment));
    if (page.length > 0 && bytes + size > maxBytes) break;
    bytes += size;
    page.push(amendment);
  }
  return page;
}
