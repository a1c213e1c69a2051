import { expect, it } from "vitest";
import type { AgentProfile } from "../src/economics/agent.ts";
import { paperScenario } from "../src/economics/paper-scenario.ts";
import { scenarioSchema } from "../src/economics/scenario.ts";
import type { SyncWant } from "../src/machine/machine-io.ts";
import { type SimNode, SimulatedNetwork } from "../src/sim/simulated-network.ts";

/**
 * A member deciding the next epoch asks sync for the current epoch's leaves too
 * (docs/protocol.md §9.4): a `leave` names the epoch being left, so a lost one is fetched by
 * catch-up, not only by its sender's re-sends.
 */
it("a member deciding the next epoch asks for the current epoch's leaves", () => {
  const base = paperScenario({ agents: 3, capacity: 10, seed: 5, g: 0, rule: "gradient" });
  const scenario = scenarioSchema.parse({ ...base, contract: { ...base.contract, minMembers: 2 } });
  const wants: { node: string; want: SyncWant }[] = [];
  const net = new SimulatedNetwork({
    contract: scenario.contract,
    seed: 2,
    observer: (e) => {
      if ("actions" in e)
        for (const a of e.actions) if (a.type === "sync") wants.push({ node: e.node.name, want: a.want });
    },
  });
  const add = (i: number): SimNode => {
    const { id: _id, ...profile } = scenario.agents[i] as (typeof scenario.agents)[number];
    net.addAgent(`n${i}`, profile as AgentProfile, net.newSigner());
    return net.node(`n${i}`) as SimNode;
  };
  const n0 = add(0);
  const n1 = add(1);
  const twoVoters = () =>
    n0.machine.status().voters.length === 2 && n1.machine.status().epoch === n0.machine.status().epoch;
  expect(net.runUntil(twoVoters, 120_000)).toBe(true);
  const epoch = n0.machine.status().epoch as number;
  wants.length = 0;
  // A joiner makes the members decide epoch + 1, and n1, deaf, keeps the decision open.
  net.deafen(n1, true);
  add(2);
  const asked = () =>
    wants.some(
      ({ node, want }) =>
        node === "n0" && want.type === "messages" && want.epoch === epoch && want.kinds.includes("leave"),
    );
  expect(net.runUntil(() => asked() || (n0.machine.status().epoch ?? 0) > epoch, 120_000)).toBe(true);
  expect(asked()).toBe(true);
});
