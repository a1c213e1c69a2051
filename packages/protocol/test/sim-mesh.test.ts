import { describe, expect, it } from "vitest";
import { paperProfiles } from "../src/economics/paper-scenario.ts";
import type { Verdict } from "../src/machine/machine-io.ts";
import { runSeed } from "../src/sim/runner.ts";
import { type NetworkEvent, type SimNode, SimulatedNetwork } from "../src/sim/simulated-network.ts";
import type { Signer } from "../src/wire/agent-key.ts";
import { contractId, contractSchema } from "../src/wire/contract.ts";
import { messageDigest } from "../src/wire/message-codec.ts";
import {
  type DemandMessage,
  type JoinMessage,
  PROTOCOL_VERSION,
  type WireMessage,
} from "../src/wire/messages.ts";
import { signMessage } from "../src/wire/signing.ts";

/**
 * The simulator's mesh mode (SimulatedNetworkOptions.mesh): gossip crosses hops, each node
 * forwarding by its verdict (machine/forward-rule.ts, docs/protocol.md §5) and dropping what its
 * seen cache holds, so the forwarding rules run in simulation as on the live node.
 */

const contract = contractSchema.parse({
  name: "mesh",
  resources: [{ id: "cpu", capacity: 6 }],
  fees: { perUnit: 0.5, fixed: 0 },
  timeouts: { roundMs: 2_000, announceMs: 200 },
});

type Delivery = Extract<NetworkEvent, { type: "deliver" }>;

/** A network on the line n0 — n1 — n2 (mesh links only between neighbours), every event and delivery kept. */
function line(delay = { min: 1, max: 10 }) {
  const events: NetworkEvent[] = [];
  const deliveries: Delivery[] = [];
  const net = new SimulatedNetwork({
    contract,
    seed: 17,
    delay,
    mesh: {
      links: [
        ["n0", "n1"],
        ["n1", "n2"],
      ],
    },
    observer: (e) => {
      events.push(e);
      if (e.type === "deliver") deliveries.push(e);
    },
  });
  return { net, events, deliveries };
}

/** A demand of `signer`'s for `epoch`, round 0 (signed, so it passes the checks before membership). */
function demand(signer: Signer, epoch: number): DemandMessage {
  return signMessage<DemandMessage>(
    {
      v: PROTOCOL_VERSION,
      kind: "demand",
      contract: contractId(contract),
      agent: signer.id,
      epoch,
      round: 0,
      prices: [1],
      x: 1,
      slope: -1,
      footprint: [1],
    },
    signer,
  );
}

/** `signer`'s request to join, naming the epoch it knows. */
function joinOf(signer: Signer, epoch: number): JoinMessage {
  return signMessage<JoinMessage>(
    { v: PROTOCOL_VERSION, kind: "join", contract: contractId(contract), agent: signer.id, epoch, seq: 1 },
    signer,
  );
}

const gossipOf = (deliveries: readonly Delivery[], node: string, m: WireMessage) =>
  deliveries.filter(
    (d) => d.node.name === node && d.via === "gossip" && messageDigest(d.message) === messageDigest(m),
  );

const verdictOf = (deliveries: readonly Delivery[], node: string, m: WireMessage): Verdict | undefined =>
  gossipOf(deliveries, node, m)[0]?.verdict;

describe("the simulator's mesh", () => {
  it("carries a member's demand to a node that is not the publisher's neighbour only by forwarding", () => {
    const { net, deliveries } = line();
    const [p0, p1, p2] = paperProfiles(3, 4) as [never, never, never];
    const n0 = net.addAgent("n0", p0);
    net.addAgent("n1", p1);
    net.addAgent("n2", p2);
    net.runUntil(() => false, 20 * contract.timeouts.roundMs);
    // n0's demands are not flood-published: n2 hears them from n1 alone, never from n0.
    const demands = deliveries.filter(
      (d) =>
        d.node.name === "n2" &&
        d.via === "gossip" &&
        d.message.kind === "demand" &&
        d.message.agent === n0.id,
    );
    expect(demands.length).toBeGreaterThan(3);
    expect(new Set(demands.map((d) => d.from))).toEqual(new Set(["n1"]));
    // Its own proposals are flooded: they reach n2 straight from n0.
    const proposals = deliveries.filter(
      (d) =>
        d.node.name === "n2" &&
        d.via === "gossip" &&
        d.message.kind === "propose" &&
        d.message.agent === n0.id,
    );
    expect(proposals.some((d) => d.from === "n0")).toBe(true);
  });

  it("a joiner takes the founder's flooded proposal straight from it (its bootstrap node) and asks no one for the decision", () => {
    // One delay for every delivery, so that what the founder sends at once arrives in the order
    // sent, as on one libp2p connection: its proposal before its first demand (a demand of an
    // epoch heard first makes a joiner ask, and the answer may then come before the flood).
    const { net, events } = line({ min: 5, max: 5 });
    const [p0, p1, p2] = paperProfiles(3, 4) as [never, never, never];
    const n0 = net.addAgent("n0", p0);
    // Joiners a little later, so that their first asks (announceMs after their start) would come
    // after the founding: each asks nobody only if it holds the decision by then.
    net.runUntil(() => false, contract.timeouts.announceMs / 2);
    net.addAgent("n1", p1);
    net.addAgent("n2", p2);
    net.runUntil(() => false, 10 * contract.timeouts.roundMs);
    expect(net.nodes.map((n) => n.machine.status().epoch)).not.toContain(null);
    const proposal = events.find(
      (e): e is Delivery => e.type === "deliver" && e.message.kind === "propose" && e.message.agent === n0.id,
    );
    expect(proposal).toBeDefined();
    const founded = proposal?.at as number;
    for (const name of ["n1", "n2"]) {
      const heard = events.filter(
        (e): e is Delivery =>
          e.type === "deliver" &&
          e.via === "gossip" &&
          e.node.name === name &&
          e.message === proposal?.message,
      );
      // Flooded: it reaches n2 too straight from n0, though their mesh link goes through n1.
      expect(heard.map((d) => [d.from, d.via, d.verdict.verdict])).toEqual([["n0", "gossip", "accept"]]);
      expect(heard[0]?.actions).toContainEqual(expect.objectContaining({ type: "epoch-started", epoch: 0 }));
      const asked = events.filter(
        (e) =>
          "actions" in e &&
          e.at >= founded &&
          e.node.name === name &&
          e.actions.some((a) => a.type === "sync" && a.want.type === "decision" && a.want.epoch === null),
      );
      expect(asked).toEqual([]);
    }
  });

  it("a node forwards a current member's held later-epoch message, but not one it took on trust", () => {
    const { net, deliveries } = line();
    const founder = net.newSigner();
    const stranger = net.newSigner();
    const [p0] = paperProfiles(1, 4) as [never];
    net.addAgent("n0", p0, founder);
    const n1 = net.addObserver("n1");
    const n2 = net.addObserver("n2");
    const holdEpoch = (n: SimNode) => n.machine.status().epoch !== null;
    expect(net.runUntil(() => holdEpoch(n1) && holdEpoch(n2), 20 * contract.timeouts.roundMs)).toBe(true);
    const epoch = n1.machine.status().epoch as number;
    // The next epoch's: later than the one n1 judges demands by. The stranger asks to join first
    // (a join is never taken on trust, so it goes on to n2 too), or n1 would ignore its demand.
    const member = demand(founder, epoch + 1);
    const throwaway = demand(stranger, epoch + 1);
    net.injectTo(n1, joinOf(stranger, epoch));
    net.injectTo(n1, member);
    net.injectTo(n1, throwaway);
    net.runUntil(() => false, 1_000);
    expect(verdictOf(deliveries, "n1", member)).toEqual({ verdict: "accept", held: true });
    expect(verdictOf(deliveries, "n1", throwaway)).toEqual({ verdict: "accept", onTrust: true, held: true });
    // n2 is linked to n1 alone: only n1's forwarding could bring either.
    expect(gossipOf(deliveries, "n2", member).map((d) => d.from)).toEqual(["n1"]);
    expect(gossipOf(deliveries, "n2", throwaway)).toEqual([]);
  });

  it("a node with no epoch keeps what it takes on trust and does not forward it", () => {
    const { net, deliveries } = line();
    const stranger = net.newSigner();
    // Joiners only: no founder, so no node ever holds an epoch.
    net.addObserver("n0");
    net.addObserver("n1");
    net.addObserver("n2");
    const m = demand(stranger, 0);
    net.injectTo(net.node("n1") as SimNode, m);
    net.runUntil(() => false, 1_000);
    expect(verdictOf(deliveries, "n1", m)).toMatchObject({ verdict: "accept", onTrust: true });
    expect(net.node("n1")?.store).toContain(m);
    expect(gossipOf(deliveries, "n0", m)).toEqual([]);
    expect(gossipOf(deliveries, "n2", m)).toEqual([]);
  });

  it("a node judges each message at most once by gossip: its seen cache drops the copies other paths bring", () => {
    const deliveries: Delivery[] = [];
    const net = new SimulatedNetwork({
      contract,
      seed: 23,
      delay: { min: 1, max: 30 },
      mesh: { degree: 3 },
      observer: (e) => {
        if (e.type === "deliver" && e.via === "gossip") deliveries.push(e);
      },
    });
    for (const [i, p] of paperProfiles(8, 6).entries()) net.addAgent(`n${i}`, p);
    // Within the seen cache's 120 s lifetime.
    net.runUntil(() => false, 60_000);
    const judged = new Map<string, number>();
    for (const d of deliveries) {
      const key = `${d.node.name} ${messageDigest(d.message)}`;
      judged.set(key, (judged.get(key) ?? 0) + 1);
    }
    expect(deliveries.length).toBeGreaterThan(500);
    expect(Math.max(...judged.values())).toBe(1);
  });
});

describe("a seed in mesh mode", () => {
  it("replays exactly, and differs from its broadcast run", () => {
    const a = runSeed(16, { mesh: 3, trace: true });
    const b = runSeed(16, { mesh: 3, trace: true });
    expect(a.traceHash).toBe(b.traceHash);
    expect(a.events).toBe(b.events);
    expect(a.liveness.status).toBe("held");
    expect(runSeed(16, { trace: true }).traceHash).not.toBe(a.traceHash);
  });
});
