import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { AgentProfile } from "@walras/protocol";

/**
 * A new bid for a node's agent, as an operator gives it (`walras agent update`, README): PUT
 * /agent on the node's market API with the token the node keeps in its data directory.
 */
export async function putBid(httpUrl: string, dataDir: string, profile: AgentProfile): Promise<void> {
  const token = readFileSync(join(dataDir, "api.token"), "utf8").trim();
  const res = await fetch(`${httpUrl}/agent`, {
    method: "PUT",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(profile),
    // Generous: a node of a busy 50-process network may take seconds to answer.
    signal: AbortSignal.timeout(60_000),
  });
  if (res.status !== 200) throw new Error(`${httpUrl}/agent: HTTP ${res.status}: ${await res.text()}`);
}
