import { type AgentProfile, agentProfileSchema, parseWith, type Scenario } from "@walras/protocol";
import { readApiToken } from "../../api-token.ts";
import { InputError } from "../../cli-error.ts";
import { putProfile } from "../../market-api-client.ts";
import { parseValuation } from "../agent/profile-flags.ts";
import type { DevnetNode } from "./start-devnet.ts";

/** `--rebid a2:log:alpha=30`: one agent's new valuation, sent to its node once the first slot is certified. */
export interface RebidPlan {
  readonly label: string;
  readonly before: AgentProfile;
  readonly after: AgentProfile;
}

/** Checks the flag against the scenario before any node starts: a typo costs no network. */
export function planRebid(flag: string, scenario: Scenario): RebidPlan {
  const m = /^([^:\s]+):(.+)$/.exec(flag.trim());
  if (!m) throw new InputError(`--rebid ${flag}: expected agent:valuation, e.g. a2:log:alpha=30`);
  const [, label, spec] = m as unknown as [string, string, string];
  const agent = scenario.agents.find((a) => a.id === label);
  if (!agent)
    throw new InputError(
      `--rebid ${flag}: no agent ${label} in this devnet (${scenario.agents.map((a) => a.id).join(", ")})`,
    );
  const { id: _id, ...before } = agent;
  const parsed = parseWith(
    agentProfileSchema,
    { ...before, valuation: parseValuation("--rebid", spec) },
    `--rebid ${flag}`,
  );
  if (!parsed.ok) throw new InputError(parsed.error);
  return { label, before, after: parsed.value };
}

/** Sends the new bid through the node's own API with the token in its data dir; returns when it takes effect. */
export async function applyRebid(node: DevnetNode, plan: RebidPlan): Promise<string> {
  return putProfile(node.httpUrl, readApiToken({ dataDir: node.dataDir }), plan.after);
}
