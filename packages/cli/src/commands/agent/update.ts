import type { AgentProfile } from "@walras/protocol";
import { readApiToken, type TokenFlags } from "../../api-token.ts";
import { InputError } from "../../cli-error.ts";
import { profileChanges } from "../../describe-profile.ts";
import { fetchProfile, putProfile } from "../../market-api-client.ts";
import { printable } from "../../printable.ts";
import { jsonText, writeOutput } from "../../write-output.ts";
import { parseCost, parseFootprint, parseValuation } from "./profile-flags.ts";

export interface AgentUpdateFlags extends TokenFlags {
  readonly node: string;
  readonly valuation?: string;
  readonly cost?: string;
  readonly footprint?: string;
  readonly json?: boolean;
}

/**
 * A running node's new bid: its current profile with what the flags give replaced, sent whole.
 * The node judges it (a bad one is refused and the running bid kept) and runs it from the next
 * market slot.
 */
export async function runAgentUpdate(flags: AgentUpdateFlags): Promise<void> {
  if (flags.valuation === undefined && flags.cost === undefined && flags.footprint === undefined)
    throw new InputError("agent update: give at least one of --valuation, --cost, --footprint");
  // Parse the flags before asking the node anything: a typo costs no request.
  const change: Partial<AgentProfile> = {
    ...(flags.valuation !== undefined ? { valuation: parseValuation("--valuation", flags.valuation) } : {}),
    ...(flags.cost !== undefined ? { cost: parseCost("--cost", flags.cost) } : {}),
    ...(flags.footprint !== undefined ? { footprint: parseFootprint(flags.footprint) } : {}),
  };
  const token = readApiToken(flags);
  const before = await fetchProfile(flags.node, token);
  const after: AgentProfile = { ...before, ...change };
  const changes = profileChanges(before, after);
  if (changes.length === 0) {
    if (flags.json) await writeOutput(jsonText({ changed: false, profile: before }), undefined);
    else await writeOutput(`${flags.node}: the agent already bids this; nothing sent`, undefined);
    return;
  }
  const takesEffect = await putProfile(flags.node, token, after);
  if (flags.json) {
    await writeOutput(jsonText({ changed: true, before, profile: after, takesEffect }), undefined);
    return;
  }
  await writeOutput(
    [
      `${flags.node}: the agent's bid changed`,
      ...changes.map((c) => `  ${c}`),
      `takes effect ${printable(takesEffect)}`,
    ].join("\n"),
    undefined,
  );
}
