import type { Command } from "commander";

/** `walras agent create`: an agent profile (private to its node). */
export function register(program: Command): void {
  const agent = program.command("agent").description("write an agent profile");
  agent
    .command("create")
    .description("write an agent profile: valuation, cost and footprint (stays on its node)")
    .requiredOption(
      "--valuation <spec>",
      "log:alpha=A | quadratic:a=A,b=B | power:w=W,theta=T (e.g. log:alpha=12)",
    )
    .requiredOption("--cost <spec>", "linear:beta=B | quadratic:beta=B,c=C (e.g. linear:beta=1.5)")
    .option("--footprint <a,...>", "units of each resource per unit of activity, one per resource", "1")
    .option("--out <file>", "write to this file instead of stdout")
    .action(async (flags) => (await import("./create.ts")).runAgentCreate(flags));
}
