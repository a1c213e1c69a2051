import { Command } from "commander";
import { CLI_VERSION } from "./cli-version.ts";
import { register as registerAgent } from "./commands/agent/index.ts";
import { register as registerCertificate } from "./commands/certificate/index.ts";
import { register as registerContract } from "./commands/contract/index.ts";
import { register as registerDevnet } from "./commands/devnet/index.ts";
import { register as registerExperiment } from "./commands/experiment/index.ts";
import { register as registerKeygen } from "./commands/keygen/index.ts";
import { register as registerLedger } from "./commands/ledger/index.ts";
import { register as registerNode } from "./commands/node/index.ts";
import { register as registerScenario } from "./commands/scenario/index.ts";
import { register as registerSimulate } from "./commands/simulate/index.ts";
import { register as registerStatus } from "./commands/status/index.ts";
import { register as registerTestnet } from "./commands/testnet/index.ts";
import { register as registerWatch } from "./commands/watch/index.ts";
import { reportError } from "./report-error.ts";

/**
 * Every `walras` command, one folder each under commands/. A new command adds its folder with a
 * `register(program)` that attaches its subcommand, and one line here.
 */
const COMMANDS: readonly ((program: Command) => void)[] = [
  registerDevnet,
  registerNode,
  registerTestnet,
  registerStatus,
  registerWatch,
  registerCertificate,
  registerLedger,
  registerKeygen,
  registerContract,
  registerAgent,
  registerScenario,
  registerSimulate,
  registerExperiment,
];

export function buildProgram(): Command {
  const program = new Command("walras")
    .description("A peer-to-peer network of economic agents that agree on a contract equilibrium.")
    .version(CLI_VERSION)
    .option("--verbose", "print stack traces with errors")
    // Settings made before the subcommands are added are inherited by them.
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(str) })
    .showSuggestionAfterError();
  for (const register of COMMANDS) register(program);
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync([...argv]);
    return 0;
  } catch (err) {
    return reportError(err, argv.includes("--verbose"), (line) => process.stderr.write(`${line}\n`));
  }
}

// process.exitCode rather than process.exit(): lets stdout drain when it is a pipe.
process.exitCode = await main(process.argv);
