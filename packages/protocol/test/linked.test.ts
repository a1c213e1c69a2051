import { describe, expect, it } from "vitest";
import { paperProfiles } from "../src/economics/paper-scenario.ts";
import { solveReference } from "../src/economics/reference-solver.ts";
import { scenarioSchema } from "../src/economics/scenario.ts";
import { type SimNode, SimulatedNetwork } from "../src/sim/simulated-network.ts";
import { contractSchema } from "../src/wire/contract.ts";

// A live node publishes its first join before its first connection is up, and a join that reaches
// no one is re-sent only after the back-off (1 s, then 2 s, ...). A node told it has a peer again
// (`linked`) re-sends at once, and asks for the decision if it holds no epoch (protocol §9.4).
// Here joiners start cut off, each alone, and the partition heals after their second join.

const contract = contractSchema.parse({
  name: "linked",
  resources: [{ id: "capacity", capacity: 8 }],
  fees: { perUnit: 0.5, fixed: 0 },
  minMembers: 5,
  timeouts: { roundMs: 2000, announceMs: 1000 },
});

const HEAL_AT = 1_500;
/**
 * A lone joiner announces, and asks for the decision, every announceMs (its back-off is capped by
 * the few agents it knows): the next of each after the heal goes out 2,000 ms after its start.
 */
const NEXT_ANNOUNCE = 2_000;

function isolatedStart(names: readonly string[], seed: number) {
  const net = new SimulatedNetwork({ contract, seed });
  net.partition(names.map((name) => [{ name }]));
  const profiles = paperProfiles(names.length, seed);
  const nodes = names.map((name, i) => net.addAgent(name, profiles[i] as (typeof profiles)[number]));
  return { net, nodes, profiles };
}

const epochOf = (n: SimNode): number | null => n.machine.status().epoch;

describe("a node that gains its first peer (linked)", () => {
  it("re-sends its join at once: the founder founds right after the heal, and the market clears at the reference equilibrium", () => {
    const { net, nodes, profiles } = isolatedStart(["n0", "n1", "n2", "n3", "n4"], 3);
    net.advanceTo(HEAL_AT);
    expect(nodes.every((n) => epochOf(n) === null)).toBe(true);
    net.heal();
    expect(net.runUntil(() => nodes.some((n) => epochOf(n) !== null), 60_000)).toBe(true);
    expect(net.now).toBeLessThan(NEXT_ANNOUNCE);
    // The others take it from answers to their asks (§9.3: not from the founder's gossip), four per
    // announceMs once they heard of it, from peers picked at random, most of them without it yet.
    expect(net.runUntil(() => nodes.every((n) => epochOf(n) !== null), 60_000)).toBe(true);
    expect(net.now).toBeLessThan(NEXT_ANNOUNCE + contract.timeouts.announceMs);

    expect(net.runUntil(() => nodes.every((n) => n.machine.status().certificate !== null), 60_000)).toBe(
      true,
    );
    const certificate = nodes[0]?.machine.status().certificate;
    const scenario = scenarioSchema.parse({
      contract,
      agents: nodes.map((n, i) => ({ id: n.id, ...profiles[i] })),
    });
    const want = solveReference(scenario);
    const byId = new Map(certificate?.commit.allocations.map((a) => [a.agent, a.x] as const));
    for (const [j, p] of want.prices.entries()) expect(certificate?.commit.prices[j]).toBeCloseTo(p, 6);
    for (const a of want.allocations) expect(byId.get(a.agent)).toBeCloseTo(a.x, 6);
  });

  it("asks for the decision at once: a joiner cut off from a running market adopts its epoch right after the heal", () => {
    const net = new SimulatedNetwork({ contract, seed: 5 });
    const profiles = paperProfiles(6, 5);
    const members = profiles.slice(0, 5).map((p, i) => net.addAgent(`m${i}`, p));
    expect(net.runUntil(() => members.every((n) => n.machine.status().certificate !== null), 60_000)).toBe(
      true,
    );
    net.partition([members, [{ name: "late" }]]);
    const late = net.addAgent("late", profiles[5] as (typeof profiles)[number]);
    const startedAt = net.now;
    net.advanceTo(startedAt + HEAL_AT);
    expect(epochOf(late)).toBeNull();
    net.heal();
    expect(net.runUntil(() => epochOf(late) !== null, 60_000)).toBe(true);
    expect(net.now - startedAt).toBeLessThan(NEXT_ANNOUNCE);
  });
});
