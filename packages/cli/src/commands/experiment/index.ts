import { type Command, Option } from "commander";
import {
  integerAtLeast,
  nonNegativeNumber,
  positiveInteger,
  positiveNumber,
  seedInteger,
} from "../../option-parsers.ts";
import { runExperimentPaper } from "./paper.ts";

/** `walras experiment <name>`: reproducible experiments over many seeded scenarios. */
export function register(program: Command): void {
  const experiment = program.command("experiment").description("run an experiment");
  experiment
    .command("paper")
    .description("the four mechanisms and the fee sweep of Cha et al. (arXiv:2510.05504), §6")
    .option("--replications <r>", "scenarios per configuration (the paper: 1000)", integerAtLeast(2), 200)
    .option("--seed <s>", "seed of every draw", seedInteger, 1)
    .option("--agents <n>", "agents per scenario", positiveInteger, 20)
    .option("--capacity <m>", "capacity of the one resource", positiveNumber, 100)
    .option("--tau <t>", "per-unit fee of the mechanism comparison", nonNegativeNumber, 0.5)
    .option("--g <g>", "fixed execution fee", nonNegativeNumber, 1)
    .addOption(
      new Option("--rule <rule>", "price rule of the contract")
        .choices(["newton", "gradient"])
        .default("newton"),
    )
    .option("--max-rounds <n>", "round limit of the contract's price rule", positiveInteger, 200)
    .option("--csv <file>", "also write every figure as CSV")
    .option("--json", "print one JSON object instead of tables")
    .action(runExperimentPaper);
}
