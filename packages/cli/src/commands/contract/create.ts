import {
  type ContractInput,
  contractId,
  contractSchema,
  isAgentId,
  minMembersProblem,
  parseWith,
  proximalRuleAdvice,
  scenarioSchema,
} from "@walras/protocol";
import { z } from "zod";
import { InputError } from "../../cli-error.ts";
import { type PriceRuleFlags, priceRuleFrom } from "../../price-rule-flags.ts";
import { readJsonFile, sourceName } from "../../read-json-file.ts";
import { jsonText, writeOutput } from "../../write-output.ts";

export interface ContractCreateFlags extends PriceRuleFlags {
  readonly from?: string;
  readonly name?: string;
  readonly capacity?: number;
  readonly resource?: { id: string; capacity: number }[];
  readonly feePerUnit?: number;
  readonly feeFixed?: number;
  readonly minMembers?: number;
  readonly quorum?: number;
  readonly allowlist?: string[];
  readonly roundTimeoutMs?: number;
  readonly announceMs?: number;
  readonly maxRounds?: number;
  readonly periodMs?: number;
  readonly out?: string;
}

export async function runContractCreate(flags: ContractCreateFlags): Promise<void> {
  const base: Partial<ContractInput> = flags.from ? await scenarioContract(flags.from) : {};
  if (flags.capacity !== undefined && flags.resource !== undefined)
    throw new InputError("contract create: give --capacity or --resource, not both");
  const resources =
    flags.resource ??
    (flags.capacity !== undefined ? [{ id: "capacity", capacity: flags.capacity }] : base.resources);
  if (!resources)
    throw new InputError(
      "contract create: name the resources: --capacity N, --resource id=N, or --from scenario.json",
    );
  // An entry that is no peer id could never be matched by a node: the market would wait for
  // members that cannot exist, or found without the one the operator meant.
  const stranger = flags.allowlist?.find((entry) => !isAgentId(entry));
  if (stranger !== undefined)
    throw new InputError(`--allowlist ${stranger}: not a peer id (walras keygen prints one: 12D3KooW...)`);
  const priceRule = priceRuleFrom(base.priceRule, flags, "contract create");
  const timeouts = {
    ...base.timeouts,
    ...(flags.roundTimeoutMs !== undefined ? { roundMs: flags.roundTimeoutMs } : {}),
    ...(flags.announceMs !== undefined ? { announceMs: flags.announceMs } : {}),
  };
  const input: ContractInput = {
    ...base,
    name: flags.name ?? base.name ?? "walras contract",
    resources,
    fees: {
      perUnit: flags.feePerUnit ?? base.fees?.perUnit ?? 0.5,
      fixed: flags.feeFixed ?? base.fees?.fixed ?? 0,
    },
    ...(priceRule ? { priceRule } : {}),
    ...(flags.minMembers !== undefined ? { minMembers: flags.minMembers } : {}),
    ...(flags.quorum !== undefined ? { quorum: flags.quorum } : {}),
    ...(flags.allowlist ? { membership: { policy: "allowlist", members: flags.allowlist } } : {}),
    ...(Object.keys(timeouts).length > 0 ? { timeouts } : {}),
    ...(flags.maxRounds !== undefined ? { maxRounds: flags.maxRounds } : {}),
    ...(flags.periodMs !== undefined ? { period: { ms: flags.periodMs } } : {}),
  };
  const parsed = parseWith(contractSchema, input, "contract");
  if (!parsed.ok) throw new InputError(parsed.error);
  // Valid, but no founder could ever start it: it would wait for its first epoch forever.
  const unfoundable = minMembersProblem(parsed.value);
  if (unfoundable) throw new InputError(`contract: ${unfoundable}`);
  const advice = proximalRuleAdvice(parsed.value);
  if (advice) process.stderr.write(`warning: contract: ${advice}\n`);
  await writeOutput(jsonText(parsed.value), flags.out);
  if (flags.out) process.stdout.write(`contract ${contractId(parsed.value)} written to ${flags.out}\n`);
}

/**
 * The contract of a scenario file (--from). A contract file given instead is the likely mistake
 * (both are JSON with a contract in them), and the schema alone would say only
 * `contract: expected object`.
 */
async function scenarioContract(file: string): Promise<Partial<ContractInput>> {
  const json = await readJsonFile(file, z.unknown());
  const looksLikeContract =
    typeof json === "object" && json !== null && "resources" in json && !("contract" in json);
  if (looksLikeContract)
    throw new InputError(
      `${sourceName(file)}: --from takes a scenario file (from walras scenario), and this is a contract`,
    );
  const parsed = parseWith(scenarioSchema, json, sourceName(file));
  if (!parsed.ok) throw new InputError(parsed.error);
  return parsed.value.contract;
}
