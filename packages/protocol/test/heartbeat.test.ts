import { describe, expect, it } from "vitest";
import { paperProfiles } from "../src/economics/paper-scenario.ts";
import { heartbeatMs } from "../src/machine/heartbeat.ts";
import { SimulatedNetwork } from "../src/sim/simulated-network.ts";
import type { MessageKind } from "../src/wire/messages.ts";
import { oneResourceMarket, recordingNetwork, settled } from "./settled-market.ts";

const MEMBERS = 5;
// A beat (1,667 ms for 5 members) longer than half a round: an `alive` sent on the old schedule
// (the moment a round converged, or roundMs/2 into a waiting round) followed the member's own
// commit or demand by less than a beat.
const contract = oneResourceMarket("beats", MEMBERS, 8, { roundMs: 2_000, announceMs: 1_500 });
const beat = heartbeatMs(contract.timeouts, MEMBERS);
/** How late the slow member answers. */
const SLOW_MS = 1_800;

interface Published {
  readonly at: number;
  readonly kind: MessageKind;
}

function run(seed: number) {
  const { net, nodes, recorded } = recordingNetwork(
    contract,
    seed,
    MEMBERS,
    (action, at): Published | undefined =>
      action.type === "publish" ? { at, kind: action.message.kind } : undefined,
  );
  return { net, nodes, published: recorded };
}

describe("heartbeats (docs/protocol.md §9.4)", () => {
  it("a member sends alive only after a beat in which it published nothing else, and still beats when idle", () => {
    expect(beat).toBeGreaterThan(contract.timeouts.roundMs / 2);
    expect(SLOW_MS).toBeGreaterThan(beat);
    for (const seed of [1, 2, 3]) {
      const { net, nodes, published } = run(seed);
      const slow = nodes[MEMBERS - 1];
      if (!slow) throw new Error("no nodes");
      // It holds every round open past roundMs/2 and past a beat, when the others start to beat.
      net.slow(slow, SLOW_MS);
      expect(net.runUntil(settled(nodes, MEMBERS), 120_000)).toBe(true);
      const epoch = nodes[0]?.machine.status().epoch;
      const idleFrom = net.now;
      net.advanceTo(idleFrom + 20 * beat);

      let alives = 0;
      let idleAlives = 0;
      for (const node of nodes) {
        let last = Number.NEGATIVE_INFINITY;
        for (const p of published.get(node.name) ?? []) {
          if (p.kind === "alive") {
            expect(p.at - last, `${node.name}'s alive at ${p.at} ms`).toBeGreaterThanOrEqual(beat);
            alives += 1;
            if (p.at > idleFrom) idleAlives += 1;
          }
          last = p.at;
        }
      }
      // Idle, each member beats once a beat (less what ticks round off); nobody was taken for silent.
      expect(idleAlives).toBeGreaterThanOrEqual(MEMBERS * 18);
      expect(alives).toBeGreaterThan(idleAlives);
      for (const node of nodes) {
        expect(node.machine.status().epoch).toBe(epoch);
        expect(node.machine.status().members).toHaveLength(MEMBERS);
      }
    }
  });
});

describe("silence under loss (docs/protocol.md §9.4)", () => {
  // Three members of the sync-flood test's market, every delivery lost with probability 0.3, idle
  // for ten minutes once certified. Four beats to a silence window (the previous rule) took a live
  // member for silent in most seeds: 0.3^4 ≈ 0.8% per beat; CI saw one certify without a member.
  const small = oneResourceMarket("lossy", 3, 6, { roundMs: 3_000, announceMs: 300 });

  it("a live member is not taken for silent when a third of its heartbeats are lost", () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const net = new SimulatedNetwork({ contract: small, seed, loss: 0.3, delay: { min: 1, max: 40 } });
      const nodes = paperProfiles(3, 23).map((profile, i) => net.addAgent(`n${i}`, profile));
      expect(net.runUntil(settled(nodes, 3), 120_000)).toBe(true);
      const epoch = nodes[0]?.machine.status().epoch;
      net.advanceTo(net.now + 600_000);
      for (const node of nodes) {
        expect(node.machine.status().epoch, `seed ${seed}, ${node.name}`).toBe(epoch);
      }
    }
  });
});
