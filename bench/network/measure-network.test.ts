import { describe, expect, it } from "vitest";
import { syncPurposesBetween } from "./measure-network.ts";

const counts = (entries: Record<string, [sent: number, failed: number, timedOut: number]>) => ({
  syncByPurpose: new Map(
    Object.entries(entries).map(([purpose, [sent, failed, timedOut]]) => [
      purpose,
      { sent, failed, timedOut },
    ]),
  ),
});

describe("syncPurposesBetween", () => {
  it("takes the requests between two snapshots per node-round, with their failed and timed-out shares, most first", () => {
    const up = counts({ decision: [10, 2, 1], "demand:named": [4, 0, 0] });
    const end = counts({ decision: [16, 5, 4], "demand:named": [44, 20, 10], "demand:all": [2, 0, 0] });
    // 2 nodes, 2 rounds each.
    expect(syncPurposesBetween(up, end, 4)).toEqual([
      { purpose: "demand:named", perNodePerRound: 10, failedShare: 0.5, timedOutShare: 0.25 },
      { purpose: "decision", perNodePerRound: 1.5, failedShare: 0.5, timedOutShare: 0.5 },
      { purpose: "demand:all", perNodePerRound: 0.5, failedShare: 0, timedOutShare: 0 },
    ]);
  });

  it("leaves out purposes with no request between the snapshots", () => {
    const same = counts({ decision: [3, 1, 1] });
    expect(syncPurposesBetween(same, same, 1)).toEqual([]);
  });
});
