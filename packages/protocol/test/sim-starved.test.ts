import { describe, expect, it } from "vitest";
import { syncMessagesTimeoutMs } from "../src/machine/sync-timeout.ts";
import { drawSchedule, type Schedule } from "../src/sim/schedule.ts";

/** The schedule without its starved sync answers. */
const fed = (s: Schedule): Schedule => {
  const { syncServeMs: _, ...network } = s.network;
  return { ...s, network };
};

describe("the simulator's starved networks (schedule.ts drawStarved)", () => {
  it("about one seed in eight with faults draws one, its answers 0.5–1.5 fixed timeouts late; every other draw is the seed's as before", () => {
    let drawn = 0;
    for (let seed = 1; seed <= 800; seed++) {
      const s = drawSchedule(seed);
      expect(fed(s)).toEqual(drawSchedule(seed, { starved: false }));
      expect(drawSchedule(seed, { faults: false }).network.syncServeMs).toBeUndefined();
      const serve = s.network.syncServeMs;
      if (serve === undefined) continue;
      drawn += 1;
      const floor = syncMessagesTimeoutMs(s.contract.timeouts);
      expect(serve).toBeGreaterThanOrEqual(0.5 * floor - 0.05);
      expect(serve).toBeLessThanOrEqual(1.5 * floor + 0.05);
    }
    expect(drawn).toBeGreaterThan(70);
    expect(drawn).toBeLessThan(130);
  });
});
