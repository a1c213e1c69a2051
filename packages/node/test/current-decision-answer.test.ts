import { describe, expect, it } from "vitest";
import { currentDecisionAnswer } from "../src/network/current-decision-answer.ts";

describe("the current-decision answer (docs/protocol.md §3)", () => {
  it("chooses exclusion plans from the highest epoch down, skipping one that does not fit for an older one that does", () => {
    const bytes = (n: number, tag: number) => new Uint8Array(n).fill(tag);
    const decision = [bytes(50, 9), bytes(10, 8)];
    const [e3, e4, e5] = [bytes(15, 3), bytes(20, 4), bytes(45, 5)];
    expect(currentDecisionAnswer(decision, [e3, e4, e5], 100)).toEqual([e3, e4, ...decision]);
    // A decision over the page alone is cut as any page is, its first message always sent.
    expect(currentDecisionAnswer([bytes(120, 9), bytes(10, 8)], [e3], 100)).toEqual([bytes(120, 9)]);
  });
});
