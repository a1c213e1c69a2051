import type { LedgerEntry } from "@walras/protocol";

/**
 * A page of ledger entries, over sync or `GET /ledger`, stops growing past this many bytes of
 * entries: a certificate carries a signature per member, so at 200–300 members 64 of them pass
 * the 4 MiB a sync answer may have, and 100 made a `GET /ledger` page of about 6 MB.
 */
export const LEDGER_PAGE_BYTES = 1024 * 1024;

/**
 * The entries from `start`, at most `count`, stopped before the one that would take their JSON
 * past `maxBytes`; the first is taken whatever its size, so a page always moves on.
 */
export function cutLedgerPage(
  entries: readonly LedgerEntry[],
  start: number,
  count: number,
  maxBytes: number = LEDGER_PAGE_BYTES,
): LedgerEntry[] {
  const page: LedgerEntry[] = [];
  let bytes = 0;
  for (let i = start; i < entries.length && page.length < count; i++) {
    const entry = entries[i] as LedgerEntry;
    const size = Buffer.byteLength(JSON.stringify(entry));
    if (page.length > 0 && bytes + size > maxBytes) break;
    bytes += size;
    page.push(entry);
  }
  return page;
}
