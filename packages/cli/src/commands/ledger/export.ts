import { canonicalJson, certificateDigest, type Ledger, type LedgerEntry } from "@walras/protocol";
import { FailureError } from "../../cli-error.ts";
import { fetchLedger } from "../../market-api-client.ts";
import { jsonText, writeFileAtomically, writeOutput } from "../../write-output.ts";
import { count } from "./ledger-summary.ts";

/** Whole exports tried before giving up on a ledger that keeps changing under the pages. */
const ATTEMPTS = 3;

/**
 * Fetches a node's whole ledger (GET /ledger, page by page) and writes it as one JSON document,
 * `{contract, entries}`, the input of `ledger verify`. A ledger that grows while it is read only
 * gains entries at its end; one that a catch-up rewrote between pages breaks its chain, and is
 * read again from the start.
 */
export async function runLedgerExport(flags: {
  readonly node: string;
  readonly out?: string;
}): Promise<void> {
  let ledger: Ledger | null = null;
  for (let attempt = 0; attempt < ATTEMPTS && ledger === null; attempt++) {
    const fetched = await fetchLedger(flags.node);
    if (chainBreak(fetched.entries) === null) ledger = fetched;
  }
  if (!ledger)
    throw new FailureError(
      `${flags.node}: the ledger changed while it was read, ${ATTEMPTS} times; try again`,
    );
  // Keys in canonical order: two nodes holding the same ledger export the same bytes.
  const text = jsonText(JSON.parse(canonicalJson(ledger)));
  if (flags.out === undefined) {
    await writeOutput(text, undefined);
    return;
  }
  await writeFileAtomically(flags.out, text);
  const epochs = ledger.entries.flatMap((e) =>
    e.type === "certificate" ? [e.certificate.commit.epoch] : [],
  );
  const amendments = ledger.entries.length - epochs.length;
  process.stderr.write(
    `ledger of ${count(epochs.length, "certificate")}${
      epochs.length > 0 ? ` (epochs ${epochs[0]}–${epochs.at(-1)})` : ""
    } and ${count(amendments, "amendment")} written to ${flags.out}\n`,
  );
}

/** The index of the first certificate that does not name the one before it, or null. */
function chainBreak(entries: readonly LedgerEntry[]): number | null {
  let previous: string | null | undefined;
  for (const [i, e] of entries.entries()) {
    if (e.type !== "certificate") continue;
    if (previous !== undefined && e.certificate.commit.previous !== previous) return i;
    previous = certificateDigest(e.certificate);
  }
  return null;
}
