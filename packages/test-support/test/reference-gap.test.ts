import { paperProfiles, solveReference } from "@walras/protocol";
import { describe, expect, it } from "vitest";
import { testContract } from "../src/cluster.ts";
import { referenceGap } from "../src/reference-gap.ts";

const contract = testContract("reference-gap");
const agents = paperProfiles(3, 1).map((profile, i) => ({ id: `agent-${i}`, profile }));
const ref = solveReference({ contract, agents: agents.map((a) => ({ id: a.id, ...a.profile })) });

describe("referenceGap", () => {
  it("is zero on the reference's own outcome", () => {
    const gap = referenceGap(contract, agents, ref);
    expect(gap.price).toBe(0);
    expect(gap.allocation).toBe(0);
    expect(gap.sameMembers).toBe(true);
  });

  it("is infinite for a certificate without allocations, or missing an agent", () => {
    expect(referenceGap(contract, agents, { prices: ref.prices, allocations: [] }).allocation).toBe(
      Number.POSITIVE_INFINITY,
    );
    const two = ref.allocations.slice(1);
    expect(referenceGap(contract, agents, { prices: ref.prices, allocations: two }).allocation).toBe(
      Number.POSITIVE_INFINITY,
    );
  });

  it("measures an allocation off the reference", () => {
    const [first, ...rest] = ref.allocations;
    if (!first) throw new Error("no allocation");
    const off = [{ agent: first.agent, x: first.x + 0.5 }, ...rest];
    expect(referenceGap(contract, agents, { prices: ref.prices, allocations: off }).allocation).toBeCloseTo(
      0.5 / Math.max(1, first.x),
      12,
    );
  });
});
