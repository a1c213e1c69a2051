import { readApiToken, type TokenFlags } from "../../api-token.ts";
import { InputError } from "../../cli-error.ts";
import { describeTerms } from "../../describe-terms.ts";
import { approveAmendment } from "../../market-api-client.ts";
import { jsonText, writeOutput } from "../../write-output.ts";
import { describeProgress } from "./amendment-progress.ts";

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
  if (flags.json) {
    await writeOutput(
      jsonText({ id, signers: view?.signers ?? [], needed: view?.needed ?? null }),
      undefined,
    );
    return;
  }
  await writeOutput(
    [
      `approved amendment ${id}`,
      ...(view ? [`  terms  ${describeTerms(view.terms)}`] : []),
      `  ${describeProgress(view)}`,
    ].join("\n"),
    undefined,
  );
}
