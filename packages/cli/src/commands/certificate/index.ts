import type { Command } from "commander";
import { nodeUrlOption } from "../status/node-option.ts";

/** `walras certificate export|verify`. */
export function register(program: Command): void {
  const certificate = program.command("certificate").description("fetch or verify equilibrium certificates");
  certificate
    .command("export")
    .description("fetch a node's latest certificate (GET /certificate)")
    .addOption(nodeUrlOption())
    .option("--out <file>", "write to this file instead of stdout")
    .action(async (flags) => (await import("./export.ts")).runExport(flags));
  certificate
    .command("verify")
    .description(
      "verify a certificate offline against its contract: signatures, quorum, membership, clearing",
    )
    .argument("<certificate>", "certificate JSON file ('-' reads stdin)")
    .requiredOption("--contract <file>", "the contract the certificate is for")
    .option("--json", "print one JSON object")
    .action(async (file, flags) => (await import("./verify.ts")).runVerify(file, flags));
}
