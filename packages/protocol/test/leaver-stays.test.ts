import { describe, expect, it } from "vitest";
import { paperProfiles } from "../src/economics/paper-scenario.ts";
import { proposerOf } from "../src/machine/epoch-plan.ts";
import { leaveStayMs } from "../src/machine/leave-stay.ts";
import { type SimNode, SimulatedNetwork } from "../src/sim/simulated-network.ts";
import { oneResourceMarket, settled } from "./settled-market.ts";

const timeouts = { roundMs: 2_000, announceMs: 200 };

/**
 * A market of two, one leaving, the leaver's accept of the epoch without it lost (sim seed 23's
 * shape): that accept made the majority the leaver saw, and the other member's only other voter.
 */
function leaveWithLostAccept(seed: number) {
  const contract = oneResourceMarket("leaver", 2, 8, timeouts);
  let leaving: SimNode | null = null;
  let stays: SimNode | null = null;
  let lost = 0;
  const net = new SimulatedNetwork({
    contract,
    seed,
    delay: { min: 1, max: 40 },
    observer: (event) => {
      // Deaf for exactly the event that publishes the accept: only its gossip (and whatever else
      // that one event sends the stayer) is lost; every later exchange goes through.
      if (stays?.deaf) stays.deaf = false;
      if (!("actions" in event) || event.node !== leaving || !stays) return;
      const accepts = event.actions.some((a) => a.type === "publish" && a.message.kind === "accept");
      if (accepts) {
        stays.deaf = true;
        lost++;
      }
    },
  });
  const nodes = paperProfiles(2, 3).map((profile, i) => net.addAgent(`n${i}`, profile));
  return {
    net,
    nodes,
    lost: () => lost,
    /** The member that does not propose the next epoch leaves: the epoch without it needs its accept. */
    leave: () => {
      const { epoch, voters } = (nodes[0] as SimNode).machine.status();
      const proposer = proposerOf((epoch as number) + 1, 0, voters);
      stays = nodes.find((n) => n.id === proposer) as SimNode;
      leaving = nodes.find((n) => n !== stays) as SimNode;
      net.leave(leaving);
      return { stays, leaving };
    },
  };
}

/** Holds a certificate of an epoch whose only member is `node`. */
function alone(node: SimNode): () => boolean {
  return () => {
    const s = node.machine.status();
    return s.certificate?.commit.members.length === 1 && s.certificate.commit.members[0] === node.id;
  };
}

describe("a leaving member stays until the members that go on hold the epoch without it (§9.4)", () => {
  it("the other member of a two-member market decides the epoch without it, the leaver's accept lost", () => {
    const { net, nodes, lost, leave } = leaveWithLostAccept(5);
    expect(net.runUntil(settled(nodes, 2), 60_000)).toBe(true);
    const leftAt = net.now;
    const { stays: n0, leaving: n1 } = leave();
    expect(net.runUntil(alone(n0), 10 * timeouts.roundMs)).toBe(true);
    expect(lost()).toBe(1);
    // It went once n0 held the epoch, not at its bound.
    expect(net.runUntil(() => !n1.up, leaveStayMs(timeouts))).toBe(true);
    expect(net.now).toBeLessThan(leftAt + leaveStayMs(timeouts));
  });

  it("a leaver that never hears the epoch's member still goes, within its bound", () => {
    const { net, nodes, lost, leave } = leaveWithLostAccept(6);
    expect(net.runUntil(settled(nodes, 2), 60_000)).toBe(true);
    const leftAt = net.now;
    const { stays: n0, leaving: n1 } = leave();
    // n0 crashes as soon as the leaver has adopted the epoch without it: no sign ever comes.
    expect(
      net.runUntil(() => n1.machine.status().epoch !== n0.machine.status().epoch, timeouts.roundMs),
    ).toBe(true);
    expect(lost()).toBe(1);
    net.crash(n0);
    expect(net.runUntil(() => !n1.up, leaveStayMs(timeouts) + 1)).toBe(true);
    expect(net.now).toBeLessThanOrEqual(leftAt + leaveStayMs(timeouts));
  });
});
