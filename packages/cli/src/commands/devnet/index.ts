import { type Command, Option } from "commander";
import { integerAtLeast, positiveInteger, seedInteger } from "../../option-parsers.ts";
import { newtonModelOption, PRICE_RULES } from "../../price-rule-flags.ts";

/** `walras devnet`: the whole system on one machine, with no configuration. */
export function register(program: Command): void {
  program
    .command("devnet")
    .description(
      "start N real node processes on loopback, show them converge, check the certified equilibrium against the reference solver, stop them",
    )
    .option("--nodes <n>", "number of nodes, one paper-style agent each", integerAtLeast(2), 5)
    // The scenario names its agents itself: --nodes and --seed with it would be ignored, so they
    // are refused (exit 2) rather than silently dropped.
    .addOption(
      new Option(
        "--scenario <file>",
        "run this scenario instead (one node per agent; the first epoch waits for all); not with --nodes or --seed",
      ).conflicts(["nodes", "seed"]),
    )
    .addOption(new Option("--rule <rule>", "price rule").choices([...PRICE_RULES]))
    .addOption(newtonModelOption())
    .option("--seed <s>", "seed of the default agents' draws", seedInteger, 1)
    .option(
      "--base-port <p>",
      "libp2p TCP port of the first node (then p+1, ...); 0 picks free ports",
      integerAtLeast(0),
      4001,
    )
    .option(
      "--http-base-port <p>",
      "HTTP status port of the first node (then p+1, ...); 0 picks free ports",
      integerAtLeast(0),
      7001,
    )
    .option(
      "--timeout <s>",
      "give up when there is no certificate after this many seconds",
      positiveInteger,
      120,
    )
    .option(
      "--rebid <agent:valuation>",
      "once the first slot is certified, change one agent's valuation through its node's API (e.g. a2:log:alpha=30) and show the market re-clear",
    )
    .option("--keep", "keep the network running after the certificate (until Ctrl-C), to join or watch it")
    .option("--json", "print one JSON object with the result (progress goes to stderr)")
    .action(async (flags) => (await import("./run.ts")).runDevnet(flags));
}
