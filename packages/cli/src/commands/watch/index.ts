import type { Command } from "commander";
import { positiveInteger } from "../../option-parsers.ts";
import { nodeUrlOption } from "../status/node-option.ts";

/** `walras watch`: a live view of one node. */
export function register(program: Command): void {
  program
    .command("watch")
    .description(
      "live view of one node: round, prices (with their path), residual, peers, members; Ctrl-C exits",
    )
    .addOption(nodeUrlOption())
    .option(
      "--until-converged",
      "exit 0 once the node holds a certificate for its current epoch; exit 1 if stopped (Ctrl-C, SIGTERM) before",
    )
    .option("--interval <ms>", "poll interval", positiveInteger, 500)
    .option(
      "--max-failures <n>",
      "exit 1 after this many polls in a row fail (the node is gone); each new failure is shown, on stderr when not on a terminal",
      positiveInteger,
      60,
    )
    .action(async (flags) => (await import("./run.ts")).runWatch(flags));
}
