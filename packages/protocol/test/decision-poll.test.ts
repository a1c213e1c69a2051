import { describe, expect, it } from "vitest";
import { joinerAnnounceMs } from "../src/machine/heartbeat.ts";
import { oneResourceMarket, recordingNetwork } from "./settled-market.ts";

const AGENTS = 4;
const timeouts = { roundMs: 2_000, announceMs: 200 };

/** When each node asked a peer for the current decision (sync `decision` without an epoch). */
function decisionPolls(minMembers: number, seed: number) {
  const contract = oneResourceMarket("poll", minMembers, 8, timeouts);
  const { net, recorded } = recordingNetwork(contract, seed, AGENTS, (action, at) =>
    action.type === "sync" && action.want.type === "decision" && action.want.epoch === null ? at : undefined,
  );
  return { net, asked: recorded };
}

describe("a node without an epoch asks for the decision (docs/protocol.md §9.3)", () => {
  it("backs off while no message says a network runs, up to the joiners' announcement bound", () => {
    // minMembers above the agents present: the founder never founds, so no decision exists.
    const { net, asked } = decisionPolls(AGENTS + 1, 1);
    const horizon = 60_000;
    net.advanceTo(horizon);
    // The agents a joiner knows are those it heard join: the other three.
    const cap = joinerAnnounceMs(timeouts, AGENTS - 1);
    expect(cap).toBeGreaterThan(4 * timeouts.announceMs);
    const joiners = [...asked.keys()];
    expect(joiners.sort()).toEqual(["n1", "n2", "n3"]);
    for (const at of asked.values()) {
      expect(at[0]).toBe(timeouts.announceMs);
      const waits = at.slice(1).map((t, i) => t - (at[i] as number));
      // Each wait at least the one before, doubling until the cap, then the cap.
      for (let i = 1; i < waits.length; i++) expect(waits[i]).toBeGreaterThanOrEqual(waits[i - 1] as number);
      expect(Math.max(...waits)).toBe(cap);
      expect(waits.slice(0, 3)).toEqual([1, 2, 4].map((k) => k * timeouts.announceMs));
      // At every announceMs it would have asked 300 times.
      expect(at.length).toBeLessThan(horizon / cap + 5);
    }
  });
});
