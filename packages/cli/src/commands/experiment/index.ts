import { type Command, Option } from "commander";
import {
  integerAtLeast,
  nonNegativeNumber,
  positiveInteger,
  positiveNumber,
  seedInteger,
  unitFraction,
} from "../../option-parsers.ts";
import { runExperimentDynamics } from "./dynamics.ts";
import { runExperimentPaper } from "./paper.ts";

/**
 * The options of the paper's economy (its distributions, one resource), which every experiment
 * draws its agents from.
 */
function paperEconomy(command: Command, agents: { help: string; default: number }, tauHelp: string): Command {
  return command
    .option("--seed <s>", "seed of every draw", seedInteger, 1)
    .option("--agents <n>", agents.help, positiveInteger, agents.default)
    .option("--capacity <m>", "capacity of the one resource", positiveNumber, 100)
    .option("--tau <t>", tauHelp, nonNegativeNumber, 0.5)
    .option("--g <g>", "fixed execution fee", nonNegativeNumber, 1)
    .addOption(
      new Option("--rule <rule>", "price rule of the contract")
        .choices(["newton", "gradient"])
        .default("newton"),
    );
}

/** `walras experiment <name>`: reproducible experiments over many seeded scenarios. */
export function register(program: Command): void {
  const experiment = program.command("experiment").description("run an experiment");
  paperEconomy(
    experiment
      .command("paper")
      .description("the four mechanisms and the fee sweep of Cha et al. (arXiv:2510.05504), §6")
      .option("--replications <r>", "scenarios per configuration (the paper: 1000)", integerAtLeast(2), 200),
    { help: "agents per scenario", default: 20 },
    "per-unit fee of the mechanism comparison",
  )
    .option("--max-rounds <n>", "round limit of the contract's price rule", positiveInteger, 200)
    .option("--csv <file>", "also write every figure as CSV")
    .option("--json", "print one JSON object instead of tables")
    .action(runExperimentPaper);
  paperEconomy(
    experiment
      .command("dynamics")
      .description(
        "a market over slots under a fee shock, a capacity shock or churn, warm- and cold-started, against the reference solver",
      )
      .addOption(
        new Option("--shock <kind>", "what changes over the slots")
          .choices(["fee", "capacity", "churn"])
          .makeOptionMandatory(),
      )
      .option("--slots <n>", "slots to clear", integerAtLeast(2), 40),
    { help: "agents in slot 0 (the mean membership under churn)", default: 50 },
    "per-unit fee",
  )
    .option("--at <slot>", "slot at which the fee or capacity changes (default: slots / 4)", positiveInteger)
    .option(
      "--until <slot>",
      "slot from which the original fee or capacity is back (default: never)",
      positiveInteger,
    )
    .option("--shock-tau <t>", "per-unit fee from --at (fee shock)", nonNegativeNumber, 1.5)
    .option("--shock-capacity <m>", "capacity from --at (capacity shock)", positiveNumber, 70)
    .option("--churn <q>", "probability that a member leaves at each slot (churn)", unitFraction, 0.1)
    .option(
      "--drift <d>",
      "each slot every valuation moves by a factor in [1 - d, 1 + d]",
      unitFraction,
      0.02,
    )
    .option("--max-rounds <n>", "round limit per slot", positiveInteger, 200)
    .option("--svg <file>", "also draw price, welfare, agents and rounds over slots as an SVG figure")
    .option("--json", "print one JSON object instead of the table")
    .action(runExperimentDynamics);
}
