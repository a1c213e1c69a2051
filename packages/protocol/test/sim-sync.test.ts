import { describe, expect, it } from "vitest";
import { paperProfiles } from "../src/economics/paper-scenario.ts";
import type { MachineEvent } from "../src/machine/machine-io.ts";
import { buildMachine } from "../src/sim/machine-factory.ts";
import { SimulatedNetwork } from "../src/sim/simulated-network.ts";
import { contract } from "./decision-asks.ts";

/**
 * The simulator's sync asks as the node's sync client does (docs/architecture.md, `pnpm sim`): the
 * peers syncTargets picks, each request lost as gossip is. It asked one random peer, and its
 * answers, empty ones included, were never lost.
 */

/** Joiners with no founder: none holds an epoch, so each answers a request for the current decision empty. */
function joinersOnly(loss: number) {
  const heard: { readonly node: string; readonly peer: string }[] = [];
  let asks = 0;
  const net = new SimulatedNetwork({
    contract,
    seed: 11,
    loss,
    machineFactory: (spec) => {
      const machine = buildMachine(spec);
      const handle = machine.handle.bind(machine);
      machine.handle = (event: MachineEvent) => {
        if (event.type === "no-decision") heard.push({ node: spec.signer?.id ?? "", peer: event.peer });
        return handle(event);
      };
      return machine;
    },
    observer: (event) => {
      if (!("actions" in event) || event.node.name !== "n0") return;
      for (const a of event.actions) if (a.type === "sync" && a.want.type === "decision") asks += 1;
    },
  });
  const nodes = paperProfiles(4, 5).map((p, i) => net.addAgent(`n${i}`, p, undefined, "joiner"));
  net.runUntil(() => false, 20 * contract.timeouts.roundMs);
  const mine = heard.filter((h) => h.node === nodes[0]?.id);
  return { asks, answers: mine.length, peers: new Set(mine.map((h) => h.peer)) };
}

describe("the simulator's sync requests", () => {
  it("a request for the current decision goes to two peers, as the node's sync client sends it", () => {
    const { asks, answers, peers } = joinersOnly(0);
    expect(asks).toBeGreaterThan(5);
    // The last ask's answers may still be on their way.
    expect(answers).toBeGreaterThanOrEqual(2 * (asks - 1));
    expect(answers).toBeLessThanOrEqual(2 * asks);
    expect(peers).toEqual(new Set(["n1", "n2", "n3"]));
  });

  it("a request or its answer is lost as gossip is, an empty answer too", () => {
    const { asks, answers } = joinersOnly(1);
    expect(asks).toBeGreaterThan(5);
    expect(answers).toBe(0);
  });
});
