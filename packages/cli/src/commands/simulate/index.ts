import { type Command, Option } from "commander";
import { positiveInteger } from "../../option-parsers.ts";
import { newtonModelOption, PRICE_RULES } from "../../price-rule-flags.ts";
import { runSimulate } from "./run.ts";

/** `walras simulate <scenario.json>`: the protocol's round loop without a network, checked against the reference solver. */
export function register(program: Command): void {
  program
    .command("simulate")
    .description(
      "run the price rule on a scenario without a network and check it against the reference solver",
    )
    .argument("<scenario>", "scenario JSON file ('-' reads stdin)")
    .addOption(new Option("--rule <rule>", "override the contract's price rule").choices([...PRICE_RULES]))
    .addOption(newtonModelOption())
    .option("--max-rounds <n>", "override the contract's round limit", positiveInteger)
    .option("--json", "print one JSON object instead of a report")
    .action(runSimulate);
}
