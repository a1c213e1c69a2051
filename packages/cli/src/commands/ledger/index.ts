import type { Command } from "commander";
import { nodeUrlOption } from "../status/node-option.ts";

/** `walras ledger export|verify`: a market's certificates, charges and amendments as one chain. */
export function register(program: Command): void {
  const ledger = program
    .command("ledger")
    .description("fetch or verify a market's ledger (certificates in a hash chain, charges, amendments)");
  ledger
    .command("export")
    .description("fetch a node's whole ledger (GET /ledger, every page) as one JSON file")
    .addOption(nodeUrlOption())
    .option("--out <file>", "write to this file (atomically) instead of stdout")
    .action(async (flags) => (await import("./export.ts")).runLedgerExport(flags));
  ledger
    .command("verify")
    .description(
      "verify a ledger offline against the market's contract: every certificate, link and charge, every amendment's signatures; names the first bad entry",
    )
    .argument("<ledger>", "ledger JSON file ('-' reads stdin)")
    .requiredOption("--contract <file>", "the market's (original) contract")
    .option("--json", "print one JSON object")
    .action(async (file, flags) => (await import("./verify.ts")).runLedgerVerify(file, flags));
}
