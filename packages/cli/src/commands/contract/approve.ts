import { readApiToken, type TokenFlags } from "../../api-token.ts";
import { InputError } from "../../cli-error.ts";
import { describeTerms } from "../../describe-terms.ts";
import { approveAmendment, fetchAmendments } from "../../market-api-client.ts";
import { jsonText, writeOutput } from "../../write-output.ts";
import { describeNoLongerPending, describeProgress } from "./amendment-progress.ts";

export interface ContractApproveFlags extends TokenFlags {
  readonly node: string;
  readonly json?: boolean;
}

/** Adds a member's signature to a known amendment (POST /amendments/<id>/approve). */
export async function runContractApprove(id: string, flags: ContractApproveFlags): Promise<void> {
  if (!/^[0-9a-f]{64}$/.test(id))
    throw new InputError(
      `contract approve ${id}: an amendment id is 64 hex digits (contract amend prints it)`,
    );
  const token = readApiToken(flags);
  const view = await approveAmendment(flags.node, token, id);
  // The node answers null when the amendment is pending no more: the terms in effect tell why.
  const inEffect = view ? null : (await fetchAmendments(flags.node)).terms;
  const passed = view ? view.needed !== null && view.signers.length >= view.needed : inEffect === id;
  if (flags.json) {
    await writeOutput(
      jsonText({
        id,
        signers: view?.signers ?? [],
        needed: view?.needed ?? null,
        passed,
        inEffect: inEffect === id,
      }),
      undefined,
    );
    return;
  }
  await writeOutput(
    [
      `approved amendment ${id}`,
      ...(view ? [`  terms  ${describeTerms(view.terms)}`] : []),
      `  ${view ? describeProgress(view) : describeNoLongerPending(id, inEffect as string)}`,
    ].join("\n"),
    undefined,
  );
}
