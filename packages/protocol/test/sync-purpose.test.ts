import { describe, expect, it } from "vitest";
import { type AgentId, MAX_SYNC_AGENTS, syncPurpose } from "../src/index.ts";

const agents = (n: number) => Array.from({ length: n }, (_, i) => `agent-${i}` as AgentId);

describe("syncPurpose", () => {
  it("names the kinds, and whether the request names agents (as syncAgents decides)", () => {
    const demand = { type: "messages", epoch: 2, round: 1, kinds: ["demand"] } as const;
    expect(syncPurpose({ ...demand, from: agents(1) })).toBe("demand:named");
    expect(syncPurpose({ ...demand, from: agents(MAX_SYNC_AGENTS) })).toBe("demand:named");
    expect(syncPurpose({ ...demand, from: agents(MAX_SYNC_AGENTS + 1) })).toBe("demand:all");
    expect(syncPurpose({ ...demand, from: [] })).toBe("demand:all");
    expect(syncPurpose(demand)).toBe("demand:all");
    // One kind set, one value, in whatever order the machine lists it.
    expect(syncPurpose({ type: "messages", epoch: 0, kinds: ["propose", "accept", "view", "leave"] })).toBe(
      "accept+leave+propose+view:all",
    );
    expect(syncPurpose({ type: "messages", epoch: 0, kinds: ["view", "leave", "accept", "propose"] })).toBe(
      "accept+leave+propose+view:all",
    );
  });

  it("is one value for every decision want, current or of an epoch", () => {
    expect(syncPurpose({ type: "decision", epoch: null })).toBe("decision");
    expect(syncPurpose({ type: "decision", epoch: 7, from: agents(2) })).toBe("decision");
  });
});
