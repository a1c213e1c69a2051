import { contractSchema, type Ledger, ledgerSchema, verifyLedger } from "@walras/protocol";
import { FailureError } from "../../cli-error.ts";
import { readJsonFile, sourceName } from "../../read-json-file.ts";
import { jsonText, writeOutput } from "../../write-output.ts";
import { formatLedgerSummary, summarizeLedger } from "./ledger-summary.ts";

/**
 * Checks a ledger offline against the market's contract: every certificate, every link of the
 * hash chain, every charge recomputed, every amendment's signatures. Names the first bad entry.
 */
export async function runLedgerVerify(
  file: string,
  flags: { readonly contract: string; readonly json?: boolean },
): Promise<void> {
  const ledger = (await readJsonFile(file, ledgerSchema)) as Ledger;
  const contract = await readJsonFile(flags.contract, contractSchema);
  const check = verifyLedger(ledger, contract);
  if (!check.ok) {
    if (flags.json)
      await writeOutput(jsonText({ ok: false, index: check.index, error: check.error }), undefined);
    throw new FailureError(`${sourceName(file)}: does not verify: ${check.error}`);
  }
  const summary = summarizeLedger(ledger, contract);
  await writeOutput(
    flags.json ? jsonText({ ok: true, ...summary }) : formatLedgerSummary(summary, contract),
    undefined,
  );
}
