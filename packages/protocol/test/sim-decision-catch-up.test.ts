import { describe, expect, it } from "vitest";
import type { AgentProfile } from "../src/economics/agent.ts";
import { paperProfiles } from "../src/economics/paper-scenario.ts";
import { MAX_SYNC_AGENTS } from "../src/machine/machine-io.ts";
import { createSignatureMemo } from "../src/sim/signature-memo.ts";
import { type NetworkEvent, type SimNode, SimulatedNetwork } from "../src/sim/simulated-network.ts";
import { contractSchema } from "../src/wire/contract.ts";
import type { AgentId } from "../src/wire/ids.ts";

/**
 * The catch-up on the decision under way with more deciders than a request names (machine/
 * decision-catch-up.ts, docs/protocol.md §9.3): the seeded simulator draws at most 30 agents, so
 * no seed of `pnpm sim` has a decision of more than 32 deciders.
 */
const FOUNDERS = 40;
const contract = contractSchema.parse({
  name: "forty deciders",
  resources: [{ id: "cpu", capacity: 80 }],
  fees: { perUnit: 0.5, fixed: 0 },
  minMembers: FOUNDERS,
  timeouts: { roundMs: 2_000, announceMs: 500 },
});

describe("the catch-up on a decision of 40 deciders under 30% loss", () => {
  it("names at most 32 of them, in turns, and the 41st agent's epoch is decided and held by all", () => {
    const memo = createSignatureMemo();
    const asks: { readonly node: string; readonly named: readonly AgentId[] }[] = [];
    const net = new SimulatedNetwork({
      contract,
      seed: 41,
      loss: 0.3,
      delay: { min: 5, max: 60 },
      verify: memo.verify,
      observer: (e: NetworkEvent) => {
        if (!("actions" in e)) return;
        for (const a of e.actions)
          if (a.type === "sync" && a.want.type === "messages" && a.want.kinds.includes("accept"))
            asks.push({ node: e.node.name, named: a.want.from ?? [] });
      },
    });
    const profiles = paperProfiles(FOUNDERS + 1, 41);
    const nodes: SimNode[] = profiles
      .slice(0, FOUNDERS)
      .map((p, i) => net.addAgent(`n${i}`, p, memo.signer(net.newSigner())));
    // The founder decides epoch 0 alone; the epochs after it are decided by their members.
    const voting = (n: SimNode) => n.machine.status().voters.length >= FOUNDERS;
    expect(net.runUntil(() => nodes.every(voting), 120_000)).toBe(true);
    const before = nodes[0]?.machine.status().epoch as number;
    asks.length = 0;
    nodes.push(net.addAgent("late", profiles[FOUNDERS] as AgentProfile, memo.signer(net.newSigner())));
    const admitted = (n: SimNode) => (n.machine.status().epoch ?? -1) > before && n.machine.status().member;
    expect(net.runUntil(() => nodes.every(admitted), 120_000)).toBe(true);
    // Lost accepts were caught up on: every ask named at most 32, and some named a full 32 (more
    // were lacking), which an unnamed ask for the whole epoch would not.
    expect(asks.length).toBeGreaterThan(0);
    for (const ask of asks) expect(ask.named.length).toBeLessThanOrEqual(MAX_SYNC_AGENTS);
    const full = asks.filter((a) => a.named.length === MAX_SYNC_AGENTS);
    expect(full.length).toBeGreaterThan(0);
    expect(asks.filter((a) => a.named.length === 0).length).toBeLessThan(asks.length / 10);
    // In turns: a node's full asks in a row name others, not the same 32 each time.
    const turns = full.filter((a, i) => full.slice(0, i).some((b) => b.node === a.node));
    expect(turns.length).toBeGreaterThan(0);
    for (const a of turns) {
      const before = full
        .slice(0, full.indexOf(a))
        .filter((b) => b.node === a.node)
        .at(-1);
      expect(a.named).not.toEqual(before?.named);
    }
  });
});
