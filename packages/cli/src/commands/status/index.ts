import type { Command } from "commander";
import { nodeUrlOption } from "./node-option.ts";

/** `walras status`: one node's state, once. */
export function register(program: Command): void {
  program
    .command("status")
    .description("show one node's round, prices, residual, peers and certificate")
    .addOption(nodeUrlOption())
    .option("--json", "print the node's /status JSON")
    .action(async (flags) => (await import("./run.ts")).runStatus(flags));
}
