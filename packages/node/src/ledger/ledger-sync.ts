import { type Certificate, certificateDigest, type LedgerEntry, ledgerEntrySchema } from "@walras/protocol";
import { z } from "zod";
import type { LedgerBook, LedgerBookLog } from "./ledger-book.ts";
import { cutLedgerPage, LEDGER_PAGE_BYTES } from "./ledger-page-cut.ts";

/** Entries one sync answer carries at most (a page): the asker asks again from its new tip. */
export const LEDGER_SYNC_PAGE = 64;
/**
 * A page also stops growing past this many bytes of entries (at least one is sent): 64
 * certificates at 200–300 members passed the 4 MiB a sync answer may have, and the asker's
 * catch-up failed on every page.
 */
export const LEDGER_SYNC_PAGE_BYTES = LEDGER_PAGE_BYTES;

/**
 * The answer to `{type: "ledger", after?}`: the responder's entries after that certificate, or,
 * for one it holds off its ledger (a slot left out: a later plan linked past it), after the latest
 * certificate on its ledger that one leads back to. Answered with nothing instead, an asker whose
 * chain ended at a left-out slot got nothing after it from any peer, for good: the asker cannot
 * tell which of its slots a peer's ledger left out, the responder walks back in one request.
 */
export function ledgerPage(
  book: LedgerBook,
  after: string | undefined,
  maxBytes: number = LEDGER_SYNC_PAGE_BYTES,
): { entries: LedgerEntry[]; more: boolean } {
  const { entries } = book.ledger();
  let start = 0;
  if (after !== undefined) {
    const at = book.indexReachedFrom(after);
    if (at < 0) return { entries: [], more: false };
    start = at + 1;
  }
  const page = cutLedgerPage(entries, start, LEDGER_SYNC_PAGE, maxBytes);
  return { entries: page, more: start + page.length < entries.length };
}

/** A page as fetched: `peer` names who sent it, for the errors (absent in tests that ask a book). */
const pageSchema = z.object({
  entries: z.array(ledgerEntrySchema),
  more: z.boolean(),
  peer: z.string().optional(),
});

/**
 * Pages one catch-up run follows: a peer that always says `more` (or a ledger longer than
 * 64,000 certificates) does not keep a run going for good. What a run kept stays kept, so the
 * next run goes on from there (ledger-catch-up.ts starts it soon, a bounded number of times).
 */
export const MAX_LEDGER_SYNC_PAGES = 1_000;

const digestOf = (c: Certificate | null): string | undefined => (c ? certificateDigest(c) : undefined);

/** How a run ended: `more` when it stopped at its page limit with the peer still saying `more`. */
export interface LedgerSyncOutcome {
  readonly added: number;
  readonly error?: string;
  readonly more?: true;
}

export interface LedgerSyncOptions {
  /** Told when a run stops at its page limit (a pino logger fits). */
  readonly log?: LedgerBookLog;
  /** Default MAX_LEDGER_SYNC_PAGES. */
  readonly maxPages?: number;
  /** Told of each certificate a page added, once it is kept (the node lists it as held). */
  readonly onCertificate?: (certificate: Certificate) => void;
}

/**
 * A node that restarts or joins late fetches the ledger it missed: from the end of the unbroken
 * chain it holds (or all of it, when it holds no first certificate), page by page, each page
 * verified against what it holds before anything is kept (LedgerBook.merge). One run at a time.
 */
export function createLedgerSync(
  book: LedgerBook,
  ask: (after: string | undefined) => Promise<unknown>,
  options: LedgerSyncOptions = {},
) {
  const maxPages = options.maxPages ?? MAX_LEDGER_SYNC_PAGES;
  let running: Promise<LedgerSyncOutcome> | null = null;
  const run = async (): Promise<LedgerSyncOutcome> => {
    let added = 0;
    let peer: string | undefined;
    for (let page = 0; page < maxPages; page++) {
      const from = book.anchor();
      const answer = await ask(digestOf(from));
      const parsed = pageSchema.safeParse(answer);
      if (!parsed.success) {
        const sender = (answer as { peer?: unknown } | null)?.peer;
        const issue = parsed.error.issues[0];
        return {
          added,
          error: `${typeof sender === "string" ? `ledger page from ${sender}` : "ledger page"}: malformed: ${issue?.path.join(".")}: ${issue?.message}`,
        };
      }
      if (parsed.data.entries.length === 0) return { added };
      // The page follows the certificate asked after; while it was on its way, the node's own
      // machine may have assembled the next certificate from gossiped commits. Checked against
      // the new anchor the page does not link (its first certificate names the old one), and the
      // whole page was refused: 32 of 50 nodes in one process logged that at the founding epoch.
      // Ask again from the new anchor.
      if (digestOf(book.anchor()) !== digestOf(from)) continue;
      const merged = book.merge(parsed.data.entries as LedgerEntry[]);
      const sender = parsed.data.peer ? `ledger page from ${parsed.data.peer}` : "ledger page";
      if ("error" in merged) return { added, error: `${sender}: ${merged.error}` };
      added += merged.added.length;
      for (const certificate of merged.added) options.onCertificate?.(certificate);
      peer = parsed.data.peer;
      if (!parsed.data.more || digestOf(book.anchor()) === digestOf(from)) return { added };
    }
    // Silent before: a node that stopped here looked caught up while it was not.
    const anchor = book.anchor();
    options.log?.warn(
      {
        peer: peer ?? null,
        pages: maxPages,
        added,
        after: anchor ? certificateDigest(anchor) : null,
        epoch: anchor?.commit.epoch ?? null,
      },
      "ledger catch-up stopped at its page limit with more to fetch; the next catch-up continues after this certificate",
    );
    return { added, more: true };
  };
  return {
    /** Fetch what is missing; resolves with how many certificates were added (and why it stopped short). */
    sync(): Promise<LedgerSyncOutcome> {
      running ??= run().finally(() => {
        running = null;
      });
      return running;
    },
  };
}
