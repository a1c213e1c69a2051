import { type Command, Option } from "commander";
import { bootstrapOption, nodeRuntimeOptions } from "./node-options.ts";

/** `walras node start`: one node, until SIGINT/SIGTERM. */
export function register(program: Command): void {
  const node = program.command("node").description("run a walras node");
  const start = node
    .command("start")
    .description(
      "run one node until Ctrl-C or SIGTERM, then leave gracefully; without --agent it is an observer",
    )
    .addOption(
      new Option("--contract <file>", "the contract JSON this node serves")
        .env("WALRAS_CONTRACT")
        .makeOptionMandatory(),
    )
    .addOption(
      new Option("--agent <file>", "this node's agent profile (omit: an observer)").env("WALRAS_AGENT"),
    );
  for (const option of nodeRuntimeOptions()) start.addOption(option);
  start
    .addOption(bootstrapOption())
    .action(async (flags) => (await import("./start.ts")).runNodeStart(flags));
}
