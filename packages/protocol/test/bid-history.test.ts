import { describe, expect, it } from "vitest";
import type { AgentProfile } from "../src/economics/agent.ts";
import { BidHistory } from "../src/machine/bid-history.ts";

const bid = (alpha: number): AgentProfile => ({
  valuation: { kind: "log", alpha },
  cost: { kind: "linear", beta: 1 },
  footprint: [1],
});

describe("bid history", () => {
  it("gives each epoch the bid it started with: a change applies from its `from` on", () => {
    const h = new BidHistory([{ from: 0, profile: bid(10) }]);
    h.change(3, bid(20));
    expect([0, 2, 3, 9].map((e) => h.at(e)?.valuation)).toEqual([
      bid(10).valuation,
      bid(10).valuation,
      bid(20).valuation,
      bid(20).valuation,
    ]);
    expect(h.latest).toEqual(bid(20));
  });

  it("keeps only the bid of the epoch before a change, and a second change for the same epoch replaces the first", () => {
    const h = new BidHistory([{ from: 0, profile: bid(10) }]);
    h.change(3, bid(20));
    h.change(3, bid(25));
    expect(h.entries()).toEqual([
      { from: 0, profile: bid(10) },
      { from: 3, profile: bid(25) },
    ]);
    h.change(7, bid(30));
    expect(h.entries()).toEqual([
      { from: 3, profile: bid(25) },
      { from: 7, profile: bid(30) },
    ]);
    // An epoch older than the record: only a replay starts one, and it signs nothing.
    expect(h.at(1)).toEqual(bid(25));
  });

  it("is empty for an observer, and refuses a record out of order", () => {
    expect(new BidHistory([]).latest).toBeNull();
    expect(new BidHistory([]).at(4)).toBeNull();
    expect(
      () =>
        new BidHistory([
          { from: 2, profile: bid(1) },
          { from: 2, profile: bid(2) },
        ]),
    ).toThrow(/increasing/);
  });
});
