import type { Command } from "commander";
import { tokenOptions } from "../../api-token.ts";
import { nodeUrlOption } from "../status/node-option.ts";

const VALUATION_HELP = "log:alpha=A | quadratic:a=A,b=B | power:w=W,theta=T (e.g. log:alpha=12)";
const COST_HELP = "linear:beta=B | quadratic:beta=B,c=C (e.g. linear:beta=1.5)";
const FOOTPRINT_HELP = "units of each resource per unit of activity, one per resource";

/** `walras agent create|update`: an agent profile (private to its node), written or changed live. */
export function register(program: Command): void {
  const agent = program.command("agent").description("write an agent profile, or change a running node's");
  agent
    .command("create")
    .description("write an agent profile: valuation, cost and footprint (stays on its node)")
    .requiredOption("--valuation <spec>", VALUATION_HELP)
    .requiredOption("--cost <spec>", COST_HELP)
    .option("--footprint <a,...>", FOOTPRINT_HELP, "1")
    .option("--out <file>", "write to this file instead of stdout")
    .action(async (flags) => (await import("./create.ts")).runAgentCreate(flags));
  const update = agent
    .command("update")
    .description(
      "change a running node's bid (PUT /agent with its token): what the flags give replaces the current profile; it takes effect at the next market slot",
    )
    .addOption(nodeUrlOption())
    .option("--valuation <spec>", VALUATION_HELP)
    .option("--cost <spec>", COST_HELP)
    .option("--footprint <a,...>", FOOTPRINT_HELP);
  for (const option of tokenOptions()) update.addOption(option);
  update
    .option("--json", "print one JSON object { changed, before, profile, takesEffect }")
    .action(async (flags) => (await import("./update.ts")).runAgentUpdate(flags));
}
