import type { TermsChange } from "@walras/protocol";
import { readApiToken, type TokenFlags } from "../../api-token.ts";
import { InputError } from "../../cli-error.ts";
import { describeTerms } from "../../describe-terms.ts";
import { fetchAmendments, proposeAmendment } from "../../market-api-client.ts";
import { jsonText, writeOutput } from "../../write-output.ts";
import { describeProgress } from "./amendment-progress.ts";

export interface ContractAmendFlags extends TokenFlags {
  readonly node: string;
  readonly resource?: { id: string; capacity: number }[];
  readonly feePerUnit?: number;
  readonly feeFixed?: number;
  readonly json?: boolean;
}

/**
 * Proposes amended terms through a member's node (POST /amendments): the node signs the proposal,
 * which counts as its approval, and gossips it. It passes when a quorum of the latest certificate's
 * members has signed, and takes effect at the next slot.
 */
export async function runContractAmend(flags: ContractAmendFlags): Promise<void> {
  const change: TermsChange = {
    ...(flags.resource
      ? { capacities: Object.fromEntries(flags.resource.map((r) => [r.id, r.capacity])) }
      : {}),
    ...(flags.feePerUnit !== undefined ? { perUnit: flags.feePerUnit } : {}),
    ...(flags.feeFixed !== undefined ? { fixed: flags.feeFixed } : {}),
  };
  if (Object.keys(change).length === 0)
    throw new InputError("contract amend: give at least one of --resource, --fee-per-unit, --fee-fixed");
  const token = readApiToken(flags);
  const { id, terms } = await proposeAmendment(flags.node, token, change);
  const listed = await fetchAmendments(flags.node);
  const view = listed.amendments.find((a) => a.id === id) ?? null;
  // The node lists only pending amendments: one it no longer lists has passed already (the
  // proposer's signature alone made a quorum, as in a one-member market).
  const passed = view === null || (view.needed !== null && view.signers.length >= view.needed);
  if (flags.json) {
    await writeOutput(
      jsonText({
        id,
        terms,
        signers: view?.signers ?? [],
        needed: view?.needed ?? null,
        passed,
        inEffect: listed.terms === id,
      }),
      undefined,
    );
    return;
  }
  await writeOutput(
    [
      `amendment ${id}`,
      `  proposed terms  ${describeTerms(terms)}`,
      view
        ? `  ${describeProgress(view)}`
        : `  passed at once (pending no more): ${listed.terms === id ? "in effect now" : "takes effect at the next slot"}`,
      ...(passed ? [] : [`others approve it with: walras contract approve --node <their node> ${id}`]),
    ].join("\n"),
    undefined,
  );
}
