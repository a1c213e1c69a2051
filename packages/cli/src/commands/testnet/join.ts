import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ContractFetchError, type FetchedContract, fetchContract } from "@walras/node";
import { FailureError } from "../../cli-error.ts";
import { formatNumber } from "../../text-table.ts";
import { checkAddresses } from "../node/check-addresses.ts";
import { checkFootprint, loadAgent } from "../node/load-inputs.ts";
import type { NodeRuntimeFlags } from "../node/node-options.ts";
import { runNodeUntilStopped } from "../node/run-node.ts";
import { checkDataDirContract } from "./data-dir-contract.ts";

export interface TestnetJoinFlags extends NodeRuntimeFlags {
  readonly agent: string;
  readonly contractId?: string;
  readonly timeoutMs: number;
}

export async function runTestnetJoin(bootstrap: string, flags: TestnetJoinFlags): Promise<void> {
  // The agent file is checked first: a typo should not cost a network round trip.
  checkAddresses("bootstrap address", [bootstrap]);
  checkAddresses("--listen", flags.listen);
  const profile = await loadAgent(flags.agent);
  let fetched: FetchedContract;
  try {
    fetched = await fetchContract(bootstrap, {
      timeoutMs: flags.timeoutMs,
      ...(flags.contractId ? { contractId: flags.contractId } : {}),
    });
  } catch (err) {
    if (err instanceof ContractFetchError) throw new FailureError(err.message);
    throw err;
  }
  const agent = checkFootprint(flags.agent, profile, fetched.contract);
  await checkDataDirContract(flags.dataDir, fetched.contractId);
  process.stdout.write(`${describe(fetched)}\n`);
  // Owner only, as the node makes it: the store will hold the agent's private bid.
  await mkdir(flags.dataDir, { recursive: true, mode: 0o700 });
  const contractFile = join(flags.dataDir, "contract.json");
  await writeFile(contractFile, `${JSON.stringify(fetched.contract, null, 2)}\n`);
  process.stdout.write(`contract saved to ${contractFile}\n`);
  await runNodeUntilStopped({ contract: fetched.contract, agent, bootstrap: [bootstrap] }, flags, {
    contractFile,
  });
}

function describe(f: FetchedContract): string {
  const c = f.contract;
  const s = f.status as { members?: unknown; epoch?: unknown; status?: unknown; prices?: unknown };
  const members = Array.isArray(s.members) ? s.members.length : "?";
  const rule = c.priceRule.kind === "gradient" ? "gradient (the paper's step rule)" : "newton";
  return [
    `joining contract "${c.name}"`,
    `  id          ${f.contractId} (checked: the hash of the contract the peer sent)`,
    `  via         ${f.peer}`,
    `  resources   ${c.resources.map((r) => `${r.id} (capacity ${formatNumber(r.capacity)})`).join(", ")}`,
    `  fees        per unit ${formatNumber(c.fees.perUnit)}, fixed ${formatNumber(c.fees.fixed)}`,
    `  price rule  ${rule}`,
    `  membership  ${c.membership.policy}; now ${members} members, epoch ${s.epoch ?? "-"} (${s.status ?? "?"})`,
  ].join("\n");
}
