import type { AgentProfile } from "@walras/protocol";
import { readApiToken } from "../../packages/cli/src/api-token.ts";
import { putProfile } from "../../packages/cli/src/market-api-client.ts";

/**
 * A new bid for a node's agent, as an operator gives it: what `walras agent update --data-dir`
 * does (the node's token from its data directory, then PUT /agent).
 */
export async function putBid(httpUrl: string, dataDir: string, profile: AgentProfile): Promise<void> {
  await putProfile(httpUrl, readApiToken({ dataDir }), profile);
}
