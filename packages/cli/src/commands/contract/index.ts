import { type Command, InvalidArgumentError, Option } from "commander";
import { tokenOptions } from "../../api-token.ts";
import { nonNegativeNumber, positiveInteger, positiveNumber } from "../../option-parsers.ts";
import { newtonModelOption, PRICE_RULES } from "../../price-rule-flags.ts";
import { nodeUrlOption } from "../status/node-option.ts";

/** `walras contract create|show|amend|approve|amendments`. */
export function register(program: Command): void {
  const contract = program
    .command("contract")
    .description("write or inspect a contract; amend a running market's terms by vote");
  contract
    .command("create")
    .description("write a contract (resources, fees, price rule, membership, quorum, timeouts)")
    .option("--from <scenario>", "start from a scenario file's contract (flags given override it)")
    .option("--name <name>", "contract name")
    .option("--capacity <m>", "one resource, 'capacity', of this size", positiveNumber)
    .option("--resource <id=capacity...>", "a resource and its capacity (repeatable)", collectResource)
    .option("--fee-per-unit <tau>", "per-unit contract fee (default 0.5)", nonNegativeNumber)
    .option("--fee-fixed <g>", "fixed execution fee per active agent (default 0)", nonNegativeNumber)
    .addOption(new Option("--rule <rule>", "price rule (default newton)").choices([...PRICE_RULES]))
    .option("--step <eta>", "gradient rule step (default: derived from a bound on demand)", positiveNumber)
    .addOption(newtonModelOption())
    .option("--min-members <n>", "members the first epoch waits for", positiveInteger)
    .option("--quorum <q>", "fraction of members whose signatures make a certificate, in (0.5, 1]", quorum)
    .option("--allowlist <peerIds...>", "only these peer ids may join (default: open membership)")
    .option("--round-timeout-ms <ms>", "a round silent this long drops its silent members", positiveInteger)
    .option("--announce-ms <ms>", "how often a joining node re-announces itself", positiveInteger)
    .option("--max-rounds <n>", "round limit of an epoch", positiveInteger)
    .option(
      "--period-ms <ms>",
      "re-clear every this many ms (default: only when a bid, member or term changes)",
      positiveInteger,
    )
    .option("--out <file>", "write to this file instead of stdout")
    .action(async (flags) => (await import("./create.ts")).runContractCreate(flags));
  contract
    .command("show")
    .description("print a contract normalised (defaults filled in) with its id")
    .argument("<file>", "contract JSON file ('-' reads stdin)")
    .option("--json", "print one JSON object { id, contract }")
    .action(async (file, flags) => (await import("./show.ts")).runContractShow(file, flags));
  const amend = contract
    .command("amend")
    .description(
      "propose new capacities or fees for a running market through a member's node; passes when a quorum of members approves, at the next slot",
    )
    .addOption(nodeUrlOption())
    .option("--resource <id=capacity...>", "a resource's new capacity (repeatable)", collectResource)
    .option("--fee-per-unit <tau>", "new per-unit fee", nonNegativeNumber)
    .option("--fee-fixed <g>", "new fixed fee", nonNegativeNumber);
  for (const option of tokenOptions()) amend.addOption(option);
  amend
    .option("--json", "print one JSON object { id, terms, signers, needed }")
    .action(async (flags) => (await import("./amend.ts")).runContractAmend(flags));
  const approve = contract
    .command("approve")
    .description("sign a proposed amendment through a member's node")
    .argument("<id>", "the amendment's id (contract amend and contract amendments print it)")
    .addOption(nodeUrlOption());
  for (const option of tokenOptions()) approve.addOption(option);
  approve
    .option("--json", "print one JSON object { id, signers, needed }")
    .action(async (id, flags) => (await import("./approve.ts")).runContractApprove(id, flags));
  contract
    .command("amendments")
    .description("the terms in effect and the amendments a node knows, with their signatures")
    .addOption(nodeUrlOption())
    .option("--json", "print the node's GET /amendments JSON")
    .action(async (flags) => (await import("./amendments.ts")).runContractAmendments(flags));
}

function collectResource(value: string, previous: { id: string; capacity: number }[] | undefined) {
  const m = /^([^=\s]+)=(.+)$/.exec(value.trim());
  const capacity = m ? Number(m[2]) : Number.NaN;
  if (!m || !Number.isFinite(capacity) || capacity <= 0)
    throw new InvalidArgumentError("must be id=capacity with capacity > 0, e.g. cpu=100");
  return [...(previous ?? []), { id: m[1] as string, capacity }];
}

function quorum(value: string): number {
  const q = Number(value);
  if (!Number.isFinite(q) || q <= 0.5 || q > 1)
    throw new InvalidArgumentError("must be a number in (0.5, 1]");
  return q;
}
