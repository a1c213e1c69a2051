import type { Command } from "commander";

/** `walras keygen`: a new Ed25519 identity; its peer id is the node's agent id. */
export function register(program: Command): void {
  program
    .command("keygen")
    .description("write a new Ed25519 identity key file (mode 0600) and print its peer id")
    .option("--out <file>", "key file to write", "node.key")
    .option("--force", "replace an existing key file (its old identity is lost)")
    .option("--json", "print one JSON object")
    .action(async (flags) => (await import("./run.ts")).runKeygen(flags));
}
