import { certificateDigest, type LedgerEntry, ledgerEntrySchema } from "@walras/protocol";
import { z } from "zod";
import type { LedgerBook } from "./ledger-book.ts";

/** Entries one sync answer carries at most (a page): the asker asks again from its new tip. */
export const LEDGER_SYNC_PAGE = 64;

/** The answer to `{type: "ledger", after?}`: the responder's entries after that certificate. */
export function ledgerPage(
  book: LedgerBook,
  after: string | undefined,
): { entries: LedgerEntry[]; more: boolean } {
  const entries = book.ledger().entries;
  let start = 0;
  if (after !== undefined) {
    const at = entries.findIndex(
      (e) => e.type === "certificate" && certificateDigest(e.certificate) === after,
    );
    if (at < 0) return { entries: [], more: false };
    start = at + 1;
  }
  const page = entries.slice(start, start + LEDGER_SYNC_PAGE);
  return { entries: page, more: start + page.length < entries.length };
}

const pageSchema = z.object({ entries: z.array(ledgerEntrySchema), more: z.boolean() });

/**
 * A node that restarts or joins late fetches the ledger it missed: from the end of the unbroken
 * chain it holds (or all of it, when it holds no first certificate), page by page, each page
 * verified against what it holds before anything is kept (LedgerBook.merge). One run at a time.
 */
export function createLedgerSync(book: LedgerBook, ask: (after: string | undefined) => Promise<unknown>) {
  let running: Promise<{ added: number; error?: string }> | null = null;
  const run = async (): Promise<{ added: number; error?: string }> => {
    let added = 0;
    for (let page = 0; page < 1_000; page++) {
      const from = book.anchor();
      const parsed = pageSchema.safeParse(await ask(from ? certificateDigest(from) : undefined));
      if (!parsed.success) return { added, error: "malformed ledger page" };
      if (parsed.data.entries.length === 0) return { added };
      const merged = book.merge(parsed.data.entries as LedgerEntry[]);
      if ("error" in merged) return { added, error: merged.error };
      added += merged.added;
      if (!parsed.data.more || book.anchor() === from) return { added };
    }
    return { added };
  };
  return {
    /** Fetch what is missing; resolves with how many certificates were added (and why it stopped short). */
    sync(): Promise<{ added: number; error?: string }> {
      running ??= run().finally(() => {
        running = null;
      });
      return running;
    },
  };
}
