import { describe, expect, it } from "vitest";
import { maxFoundingMembers, minMembersProblem, PEER_ID_LENGTH } from "../src/machine/founding-bound.ts";
import { planOverflow } from "../src/machine/plan-fit.ts";
import { createSigner } from "../src/wire/agent-key.ts";
import { contractSchema } from "../src/wire/contract.ts";
import type { AgentId } from "../src/wire/ids.ts";
import type { EpochPlan } from "../src/wire/messages.ts";

const contract = (minMembers: number, resources = 1) =>
  contractSchema.parse({
    name: "c",
    resources: Array.from({ length: resources }, (_, r) => ({ id: `r${r}`, capacity: 1 })),
    fees: { perUnit: 0, fixed: 0 },
    minMembers,
  });

describe("the most members a first epoch can have", () => {
  it("is counted for real peer ids: a founding plan of that many distinct keys fits, one more does not", () => {
    const ids = Array.from({ length: 1392 }, (_, i) => {
      const seed = new Uint8Array(32);
      new DataView(seed.buffer).setUint32(0, i + 1);
      return createSigner(seed).id as AgentId;
    });
    expect(new Set(ids.map((id) => id.length))).toEqual(new Set([PEER_ID_LENGTH]));
    const founding = (members: AgentId[]): EpochPlan => ({
      members,
      deciders: members,
      voters: members,
      base: null,
      terms: null,
      ledger: null,
      cause: ["found"],
    });
    const most = maxFoundingMembers(1);
    expect(most).toBe(1391);
    expect(planOverflow(founding(ids.slice(0, most)), 1)).toBeNull();
    expect(planOverflow(founding(ids.slice(0, most + 1)), 1)).not.toBeNull();
    // docs/protocol.md §9.4: about 1,390 at one resource, 1,230 at two, 720 at eight, 147 at 64.
    expect([2, 8, 64].map((r) => maxFoundingMembers(r))).toEqual([1227, 719, 147]);
  });

  it("bounds minMembers: past it the contract is named unfoundable, under a lifted cap it is not", () => {
    expect(minMembersProblem(contract(1391))).toBeNull();
    expect(minMembersProblem(contract(1392))).toBe(
      "minMembers: 1392 agents can never be founded as one market: at 1 resource a first epoch's messages stay under the wire's 262144-byte cap with at most 1391 members (counting 52-character ids, the length of an Ed25519 peer id)",
    );
    expect(minMembersProblem(contract(148, 64))).toContain("at 64 resources");
    expect(minMembersProblem(contract(2000), Number.POSITIVE_INFINITY)).toBeNull();
  });
});
