import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type AgentProfile, type Contract, contractSchema } from "@walras/protocol";
import { runCli } from "./run-cli.ts";

/**
 * What an operator writes before starting nodes, written with the CLI itself: `contract create`
 * (one resource, quick timeouts, the first epoch waiting for `minMembers`) to `<dir>/contract.json`,
 * and `agent create` for each log/linear profile to `<dir>/a1.json`, `a2.json`, ... Throws on any
 * failure, with the command's stderr.
 */
export async function writeCliMarket(
  dir: string,
  market: {
    readonly name: string;
    readonly capacity: number;
    readonly minMembers: number;
    readonly profiles: readonly AgentProfile[];
  },
): Promise<Contract> {
  const file = join(dir, "contract.json");
  const cli = async (args: string[]) => {
    const r = await runCli(args, { cwd: dir });
    if (r.code !== 0) throw new Error(`walras ${args.join(" ")}: ${r.stderr}`);
  };
  await cli([
    "contract",
    "create",
    "--name",
    market.name,
    "--capacity",
    String(market.capacity),
    "--min-members",
    String(market.minMembers),
    "--round-timeout-ms",
    "3000",
    "--announce-ms",
    "300",
    "--out",
    file,
  ]);
  await Promise.all(
    market.profiles.map((p, i) => {
      const v = p.valuation as { alpha: number };
      const c = p.cost as { beta: number };
      return cli([
        "agent",
        "create",
        "--valuation",
        `log:alpha=${v.alpha}`,
        "--cost",
        `linear:beta=${c.beta}`,
        "--out",
        join(dir, `a${i + 1}.json`),
      ]);
    }),
  );
  return contractSchema.parse(JSON.parse(readFileSync(file, "utf8")));
}
