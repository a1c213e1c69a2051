import { describe, expect, it } from "vitest";
import { paperProfiles } from "../src/economics/paper-scenario.ts";
import { SimulatedNetwork } from "../src/sim/simulated-network.ts";
import { oneResourceMarket, settled } from "./settled-market.ts";

/**
 * A member that hears nothing but is heard by all (in a live 50-node run: a node whose only link
 * was the bootstrap node, reached by gossip late if at all) finds every other member silent. Its
 * plan drops them all; the others, who hear each other, must not decide it.
 */
const MEMBERS = 5;
const contract = oneResourceMarket("deaf", MEMBERS, 8, { roundMs: 2_000, announceMs: 500 });

describe("a deaf member (docs/protocol.md §9.4)", () => {
  it("cannot drop the members that everyone else hears", () => {
    for (const seed of [1, 2, 3]) {
      const net = new SimulatedNetwork({ contract, seed, delay: { min: 1, max: 40 } });
      const nodes = paperProfiles(MEMBERS, 3).map((profile, i) => net.addAgent(`n${i}`, profile));
      const all = settled(nodes, MEMBERS);
      expect(net.runUntil(all, 120_000), `seed ${seed}`).toBe(true);
      for (const deaf of nodes) {
        net.deafen(deaf, true);
        net.advanceTo(net.now + 120_000);
        const hearing = nodes.filter((n) => n !== deaf);
        for (const n of hearing) {
          const members = n.machine.status().members;
          for (const other of hearing)
            expect(members, `seed ${seed}, ${deaf.name} deaf: ${n.name}'s members`).toContain(other.id);
        }
        net.deafen(deaf, false);
        expect(net.runUntil(all, 300_000), `seed ${seed}, ${deaf.name} heard again`).toBe(true);
      }
    }
  });
});
