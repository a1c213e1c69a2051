import { describe, expect, it } from "vitest";
import type { AgentProfile } from "../src/economics/agent.ts";
import { paperProfiles } from "../src/economics/paper-scenario.ts";
import { runSeed } from "../src/sim/runner.ts";
import { type AgentPlan, drawSchedule, type Schedule } from "../src/sim/schedule.ts";
import { type NetworkEvent, type SimNode, SimulatedNetwork } from "../src/sim/simulated-network.ts";
import type { Signer } from "../src/wire/agent-key.ts";
import { type Contract, contractSchema } from "../src/wire/contract.ts";

/**
 * A joiner bootstraps from any node started before it, as someone joining a running network from
 * the CLI does, not only from the founder; its machine learns that node's key when it first
 * reaches it, and takes that node's own decision messages by gossip (docs/protocol.md §9.3,
 * machine/bootstrap-peers.ts).
 */

const contract: Contract = contractSchema.parse({
  name: "bootstrap nodes",
  resources: [{ id: "capacity", capacity: 6 }],
  fees: { perUnit: 0.5, fixed: 0 },
  minMembers: 1,
  timeouts: { roundMs: 2_000, announceMs: 200 },
});

/** The schedule without its bootstrap draw. */
const withoutBootstrap = (s: Schedule): Schedule => ({
  ...s,
  agents: s.agents.map(({ bootstrap: _, ...a }): AgentPlan => a),
});

describe("the simulator's bootstrap draw", () => {
  it("half the joiners bootstrap from the founder, the rest from 1–3 distinct agents started before them; every other draw is the seed's as before", () => {
    let joiners = 0;
    let founderOnly = 0;
    let withoutFounder = 0;
    const sizes = new Set<number>();
    for (let seed = 1; seed <= 300; seed++) {
      const s = drawSchedule(seed);
      expect(withoutBootstrap(s)).toEqual(drawSchedule(seed, { bootstrapDraw: false }));
      expect(drawSchedule(seed)).toEqual(s);
      expect(s.agents[0]?.bootstrap).toBeUndefined();
      for (const [i, a] of s.agents.entries()) {
        if (i === 0) continue;
        joiners += 1;
        const b = a.bootstrap ?? [];
        const earlier = s.agents.slice(0, i).map((e) => e.name);
        expect(b.length).toBeGreaterThanOrEqual(1);
        expect(b.length).toBeLessThanOrEqual(3);
        expect(new Set(b).size).toBe(b.length);
        for (const name of b) expect(earlier).toContain(name);
        sizes.add(b.length);
        if (b.length === 1 && b[0] === "n0") founderOnly += 1;
        if (!b.includes("n0")) withoutFounder += 1;
      }
    }
    expect(sizes).toEqual(new Set([1, 2, 3]));
    // Half by the draw, and some of the other half (the second agent has only the founder before it).
    expect(founderOnly / joiners).toBeGreaterThan(0.5);
    expect(founderOnly / joiners).toBeLessThan(0.7);
    expect(withoutFounder / joiners).toBeGreaterThan(0.2);
    // Another seed draws other bootstrap nodes.
    const names = (seed: number) => drawSchedule(seed).agents.map((a) => a.bootstrap);
    expect(names(5)).not.toEqual(names(6));
  });

  it("every node founds with --founders all: no bootstrap nodes drawn", () => {
    for (let seed = 1; seed <= 50; seed++)
      for (const a of drawSchedule(seed, { founders: "all" }).agents) expect(a.bootstrap).toBeUndefined();
  });

  it("a seed's run keeps each joiner's bootstrap nodes across its restarts", () => {
    // The first seed where a joiner that bootstraps from others than the founder alone restarts.
    const restarted = (s: Schedule) =>
      s.agents.find(
        (a) =>
          a.bootstrap?.join() !== "n0" && s.faults.some((f) => f.type === "restart" && f.agent === a.name),
      );
    const seed = Array.from({ length: 400 }, (_, k) => k + 1).find((k) => restarted(drawSchedule(k)));
    const r = runSeed(seed as number, { trace: true });
    const plan = restarted(r.schedule) as AgentPlan;
    const lines = r.trace ?? [];
    const restartAt = lines.findIndex((l) => l.includes(`FAULT restart ${plan.name} `));
    expect(restartAt).toBeGreaterThan(0);
    const reached = lines
      .slice(restartAt)
      .flatMap((l) => l.match(new RegExp(`^ *[0-9.]+ ${plan.name} reaches bootstrap (n[0-9]+)$`))?.[1] ?? []);
    // Learned again by the new process, and only the nodes it was started with.
    expect(reached.length).toBeGreaterThan(0);
    for (const name of reached) expect(plan.bootstrap).toContain(name);
  });
});

/** Nodes on a network with fixed delays and no loss, every event kept. */
function network() {
  const events: NetworkEvent[] = [];
  const net = new SimulatedNetwork({
    contract,
    seed: 5,
    delay: { min: 10, max: 10 },
    observer: (e) => events.push(e),
  });
  const profiles = paperProfiles(6, 5);
  const signers: Signer[] = profiles.map(() => net.newSigner());
  const start = (i: number, bootstrap?: readonly string[]): SimNode =>
    net.addAgent(
      `n${i}`,
      profiles[i] as AgentProfile,
      signers[i],
      undefined,
      undefined,
      undefined,
      bootstrap,
    );
  /** The names of the bootstrap nodes whose keys `node`'s machine was told, in order, with when. */
  const told = (node: string) =>
    events.flatMap((e) => (e.type === "bootstrap-peer" && e.node.name === node ? [[e.peer.name, e.at]] : []));
  return { net, events, start, told, signers, profiles };
}

describe("a bootstrap node's key is learned when the joiner reaches it (a live node: at its first connection)", () => {
  it("at start, for each bootstrap node up and reachable; the founder when none is named", () => {
    const { net, start, told } = network();
    start(0);
    start(1);
    net.advanceTo(50);
    start(2, ["n1", "n0"]);
    expect(told("n1")).toEqual([["n0", 0]]);
    expect(told("n2")).toEqual([
      ["n1", 50],
      ["n0", 50],
    ]);
    expect(told("n0")).toEqual([]);
  });

  it("a bootstrap node down at the start is learned at its restart, one across a partition at the heal", () => {
    const { net, start, told, signers, profiles } = network();
    start(0);
    const n1 = start(1);
    start(2);
    net.advanceTo(100);
    net.crash(n1);
    net.partition([[{ name: "n0" }], [{ name: "n1" }, { name: "n2" }, { name: "n3" }]]);
    start(3, ["n0", "n1", "n2"]);
    expect(told("n3")).toEqual([["n2", 100]]);
    net.advanceTo(300);
    net.restart(n1, profiles[1] as AgentProfile, signers[1] as Signer);
    expect(told("n3")).toEqual([
      ["n2", 100],
      ["n1", 300],
    ]);
    net.advanceTo(500);
    net.heal();
    expect(told("n3")).toEqual([
      ["n2", 100],
      ["n1", 300],
      ["n0", 500],
    ]);
    // Learned once per process: nothing more at later changes.
    net.partition([[{ name: "n3" }], [{ name: "n0" }, { name: "n1" }, { name: "n2" }]]);
    net.heal();
    expect(told("n3")).toHaveLength(3);
  });

  it("a restarted joiner learns its bootstrap nodes again, the same ones; one not yet linked learns them at its link-up", () => {
    const events: NetworkEvent[] = [];
    const net = new SimulatedNetwork({
      contract,
      seed: 11,
      linkUp: { fraction: 1, maxMs: 400 },
      observer: (e) => events.push(e),
    });
    const profiles = paperProfiles(3, 5);
    const signers = profiles.map(() => net.newSigner());
    const linkAt = new Map<string, number>();
    const nodes = profiles.map((p, i) =>
      net.addAgent(`n${i}`, p, signers[i], undefined, undefined, undefined, i === 2 ? ["n1"] : undefined),
    );
    for (const e of events)
      if (e.type === "start" && e.linkAt !== undefined) linkAt.set(e.node.name, e.linkAt);
    net.advanceTo(1_000);
    const told = () =>
      events.flatMap((e) =>
        e.type === "bootstrap-peer" && e.node.name === "n2" ? [[e.peer.name, e.at]] : [],
      );
    // Once both are linked: the later of the two link-ups.
    expect(told()).toEqual([["n1", Math.max(linkAt.get("n1") ?? 0, linkAt.get("n2") ?? 0)]]);
    net.crash(nodes[2] as SimNode);
    net.advanceTo(1_500);
    net.restart(nodes[2] as SimNode, profiles[2] as AgentProfile, signers[2] as Signer);
    expect(told()).toEqual([told()[0], ["n1", 1_500]]);
  });

  it("a keyless bootstrap node (an observer that signs nothing) is never told", () => {
    const { net, start, told } = network();
    start(0);
    net.addObserver("watcher");
    start(1, ["watcher", "n0"]);
    expect(told("n1")).toEqual([["n0", 0]]);
  });
});

describe("a joiner whose bootstrap node is a member other than the founder (docs/protocol.md §9.3)", () => {
  it("takes that member's own decision message by gossip and adopts the epoch as it arrives", () => {
    const { net, events, start } = network();
    const n0 = start(0);
    const n1 = start(1);
    const settled = () => net.nodes.every((n) => n.machine.certificates().length > 0);
    expect(net.runUntil(settled, 30_000)).toBe(true);
    // The founder leaves: n1 is the one voter, so its proposal alone decides the next epoch.
    net.leave(n0);
    expect(net.runUntil(() => !net.node("n0")?.up && n1.machine.status().members.length === 1, 30_000)).toBe(
      true,
    );
    const e = n1.machine.status().epoch as number;
    // n3 joins through n1; once it holds n1's epoch, its join names it and n1 proposes to admit it.
    const n3 = start(3, ["n1"]);
    expect(net.runUntil(() => n3.machine.status().epoch === e, 30_000)).toBe(true);
    // n2 starts now, bootstrapping from n1 alone, before it would ask anyone for the decision.
    const n2 = start(2, ["n1"]);
    const from = events.length;
    expect(net.runUntil(() => n2.machine.status().epoch !== null, 30_000)).toBe(true);
    const adopted = events
      .slice(from)
      .find(
        (x) => "actions" in x && x.node.name === "n2" && x.actions.some((a) => a.type === "epoch-started"),
      );
    expect(n1.role).toBe("joiner");
    expect(adopted).toMatchObject({
      type: "deliver",
      from: "n1",
      via: "gossip",
      message: { kind: "propose", agent: n1.key, epoch: e + 1 },
      verdict: { verdict: "accept", onTrust: true },
    });
    // And it goes on to join the market.
    expect(net.runUntil(() => n2.key !== null && n2.machine.status().members.includes(n2.key), 60_000)).toBe(
      true,
    );
  });
});
