import { describeTerms } from "../../describe-terms.ts";
import { fetchAmendments } from "../../market-api-client.ts";
import { printable } from "../../printable.ts";
import { jsonText, writeOutput } from "../../write-output.ts";
import { describeProgress } from "./amendment-progress.ts";

/** The terms in effect and the amendments of them a node knows (GET /amendments): what to approve. */
export async function runContractAmendments(flags: { readonly node: string; readonly json?: boolean }) {
  const known = await fetchAmendments(flags.node);
  if (flags.json) {
    await writeOutput(jsonText(known), undefined);
    return;
  }
  const lines = [`terms in effect ${known.terms}`];
  if (known.amendments.length === 0) lines.push("no amendment proposed");
  for (const a of known.amendments)
    lines.push(
      `amendment ${a.id}`,
      `  proposed terms  ${describeTerms(a.terms)} (by …${printable(a.proposer.slice(-8))})`,
      `  ${describeProgress(a)}`,
    );
  await writeOutput(lines.join("\n"), undefined);
}
