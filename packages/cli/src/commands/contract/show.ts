import { contractId, contractSchema } from "@walras/protocol";
import { describePriceRule } from "../../describe-price-rule.ts";
import { printable } from "../../printable.ts";
import { readJsonFile } from "../../read-json-file.ts";
import { formatNumber, textTable } from "../../text-table.ts";
import { jsonText, writeOutput } from "../../write-output.ts";

export async function runContractShow(file: string, flags: { readonly json?: boolean }): Promise<void> {
  const contract = await readJsonFile(file, contractSchema);
  const id = contractId(contract);
  if (flags.json) {
    await writeOutput(jsonText({ id, contract }), undefined);
    return;
  }
  const rule = describePriceRule(contract.priceRule);
  const membership =
    contract.membership.policy === "open"
      ? "open (any key may join)"
      : `allowlist of ${contract.membership.members.length}`;
  const lines = [
    `contract ${printable(contract.name)}`,
    `id       ${id}`,
    "",
    textTable(
      ["resource", "capacity"],
      contract.resources.map((r) => [printable(r.id), formatNumber(r.capacity)]),
    ),
    "",
    `fees        per unit ${formatNumber(contract.fees.perUnit)}, fixed ${formatNumber(contract.fees.fixed)}`,
    `price rule  ${rule}`,
    `membership  ${membership}; first epoch waits for ${contract.minMembers}; quorum ${formatNumber(contract.quorum, 4)}`,
    `stopping    residual ${contract.tolerance.residual}, price step ${contract.tolerance.price}, at most ${contract.maxRounds} rounds`,
    `timeouts    round ${contract.timeouts.roundMs} ms, announce ${contract.timeouts.announceMs} ms`,
    `slots       ${contract.period ? `re-clear every ${contract.period.ms} ms` : "a new slot when a bid, a member or the terms change"}`,
    ...(contract.amends ? [`amends      ${contract.amends}`] : []),
  ];
  await writeOutput(lines.join("\n"), undefined);
}
