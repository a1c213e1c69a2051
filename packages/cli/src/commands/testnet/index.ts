import { type Command, InvalidArgumentError, Option } from "commander";
import { nodeRuntimeOptions } from "../node/node-options.ts";

/** `walras testnet join`: join a running network from one peer's address. */
export function register(program: Command): void {
  const testnet = program.command("testnet").description("join a running walras network");
  const join = testnet
    .command("join")
    .description(
      "fetch the contract from a running peer (checked against its id), show it, and run a node in that market",
    )
    .argument("<bootstrap>", "a running peer's multiaddr, e.g. /ip4/127.0.0.1/tcp/4001/p2p/12D3Koo...")
    .addOption(
      new Option("--agent <file>", "this node's agent profile").env("WALRAS_AGENT").makeOptionMandatory(),
    )
    .option(
      "--contract-id <id>",
      "refuse to join unless the peer serves this contract id",
      contractIdArgument,
    )
    .option("--timeout-ms <ms>", "how long to wait for the peer's answer", positive, 10_000);
  for (const option of nodeRuntimeOptions()) join.addOption(option);
  join.action(async (bootstrap, flags) => (await import("./join.ts")).runTestnetJoin(bootstrap, flags));
}

function contractIdArgument(value: string): string {
  if (!/^[0-9a-f]{64}$/.test(value)) throw new InvalidArgumentError("must be 64 lowercase hex digits");
  return value;
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError("must be a positive integer");
  return n;
}
