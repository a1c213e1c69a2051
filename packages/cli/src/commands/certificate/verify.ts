import {
  certificateSchema,
  contractId,
  contractSchema,
  type StallReason,
  verifyCertificate,
} from "@walras/protocol";
import { FailureError, InputError } from "../../cli-error.ts";
import { printable } from "../../printable.ts";
import { readJsonFile, sourceName } from "../../read-json-file.ts";
import { formatNumber } from "../../text-table.ts";
import { jsonText, writeOutput } from "../../write-output.ts";

/** Why an epoch stopped looking (the commit's `reason`), for people. */
const STALL_TEXT: Record<StallReason, string> = {
  "too-slow": "the market stopped converging fast enough",
  "round-budget": "the epoch's round budget ran out",
  "price-ceiling": "the clearing price lies beyond the protocol's price bound",
};

export async function runVerify(
  file: string,
  flags: { readonly contract: string; readonly json?: boolean },
): Promise<void> {
  const certificate = await readJsonFile(file, certificateSchema);
  const contract = await readJsonFile(flags.contract, contractSchema);
  const c = certificate.commit;
  const id = contractId(contract);
  // A certificate of amended terms is checked against those terms, and this file is the market's
  // original contract: nothing is wrong with the certificate, only with what it was given.
  if (c.terms !== undefined && c.terms !== id && c.contract === id) {
    const error = `the certificate is for amended terms ${c.terms} of this contract: verify the ledger (walras ledger export, then walras ledger verify --contract ${sourceName(flags.contract)}), which checks the amendments, or pass those terms as --contract`;
    if (flags.json) await writeOutput(jsonText({ ok: false, error }), undefined);
    throw new InputError(`${sourceName(file)}: ${error}`);
  }
  const check = verifyCertificate(certificate, contract);
  if (!check.ok) {
    if (flags.json) await writeOutput(jsonText({ ok: false, error: check.error }), undefined);
    throw new FailureError(`${sourceName(file)}: does not verify: ${check.error}`);
  }
  const prices = Object.fromEntries(contract.resources.map((r, i) => [r.id, c.prices[i] ?? 0]));
  if (flags.json) {
    await writeOutput(
      jsonText({
        ok: true,
        contractId: id,
        epoch: c.epoch,
        round: c.round,
        members: c.members,
        signers: check.signers,
        quorum: check.quorum,
        approximate: check.approximate,
        ...(c.reason ? { reason: c.reason } : {}),
        prices,
        allocations: Object.fromEntries(c.allocations.map((a) => [a.agent, a.x])),
      }),
      undefined,
    );
    return;
  }
  const lines = [
    `OK: ${check.signers} of ${c.members.length} members signed (quorum ${check.quorum}), epoch ${c.epoch}, round ${c.round}${
      check.approximate
        ? ` (approximate: no exact clearing price${c.reason ? `; ${STALL_TEXT[c.reason]}` : ""})`
        : ""
    }`,
    `contract ${printable(contract.name)} (${id})`,
    `prices ${Object.entries(prices)
      .map(([id, p]) => `${printable(id)}=${formatNumber(p)}`)
      .join("  ")}`,
    "members:",
    ...c.allocations.map((a) => `  ${a.agent}  x=${formatNumber(a.x)}`),
  ];
  await writeOutput(lines.join("\n"), undefined);
}
