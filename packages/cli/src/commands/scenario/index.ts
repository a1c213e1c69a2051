import { type Command, Option } from "commander";
import { nonNegativeNumber, positiveInteger, positiveNumber, seedInteger } from "../../option-parsers.ts";
import { writePaperScenario } from "./paper.ts";

/** `walras scenario <kind>`: writes a scenario JSON (a contract plus every agent's private profile). */
export function register(program: Command): void {
  const scenario = program.command("scenario").description("generate a scenario file");
  scenario
    .command("paper")
    .description("the experiment of Cha et al. (arXiv:2510.05504): alpha ~ U(5,20), beta ~ U(0.5,5)")
    .option("--agents <n>", "number of agents", positiveInteger, 20)
    .option("--capacity <m>", "capacity of the one resource", positiveNumber, 100)
    .option("--seed <s>", "seed of the draws", seedInteger, 1)
    .option("--tau <t>", "per-unit contract fee", nonNegativeNumber, 0.5)
    .option("--g <g>", "fixed execution fee per active agent", nonNegativeNumber, 1)
    .addOption(new Option("--rule <rule>", "price rule").choices(["newton", "gradient"]).default("newton"))
    .option("--out <file>", "write to this file instead of stdout")
    .action(writePaperScenario);
}
