import { describe, expect, it } from "vitest";
import {
  buildAggregate,
  type CommitteeAggregate,
  checkAggregate,
  committeeTree,
  signAggregate,
  verifyFraudProof,
} from "../src/sim/scale/committee-aggregate.ts";
import { createSigner, type Signer } from "../src/wire/agent-key.ts";
import { type AgentId, type ContractId, compareIds } from "../src/wire/ids.ts";
import { demandContribution, verifySumProof } from "../src/wire/merkle-sum-tree.ts";
import { messageDigest } from "../src/wire/message-codec.ts";
import type { DemandMessage } from "../src/wire/messages.ts";
import { signMessage } from "../src/wire/signing.ts";

const CONTRACT = "c".repeat(64) as ContractId;
const signers: Signer[] = Array.from({ length: 9 }, (_, i) =>
  createSigner(new Uint8Array(32).fill(i + 1)),
).sort((a, b) => compareIds(a.id, b.id));
const members: AgentId[] = signers.map((s) => s.id);
/** Binary fractions: the committee's sums come out exact in any order, so they can be written down. */
const demands: DemandMessage[] = signers.map((s, i) =>
  signMessage(
    {
      v: 2,
      kind: "demand",
      contract: CONTRACT,
      agent: s.id,
      epoch: 3,
      round: 4,
      prices: [1.5, 0.25],
      x: i === 2 ? 0 : 0.5 * (i + 1),
      slope: -0.25 * (i + 1),
      footprint: [1, i % 2 === 0 ? 0.5 : -1],
    },
    s,
  ),
);
const aggregator = signers[0] as Signer;
const build = (held: readonly DemandMessage[]) =>
  buildAggregate({
    contract: CONTRACT,
    epoch: 3,
    round: 4,
    committee: 0,
    members,
    demands: held,
    signer: aggregator,
    resources: 2,
  });
/** A lie, signed by the lying aggregator. */
function lie(a: CommitteeAggregate, change: Partial<CommitteeAggregate>): CommitteeAggregate {
  const { sig: _sig, ...body } = { ...a, ...change };
  return signAggregate(body, aggregator);
}

describe("a committee's aggregate and the fraud proof against a false one (docs/scaling.md §2.3, §2.6)", () => {
  it("sums what the price rule needs over the members it names: S = Σ a x, J = Σ |s| a a' in the market, L = Σ |s| |a|²", () => {
    const a = build(demands);
    const S = [0, 0];
    const J = [
      [0, 0],
      [0, 0],
    ];
    let L = 0;
    for (const d of demands) {
      const [a0, a1] = d.footprint as [number, number];
      S[0] = (S[0] as number) + a0 * d.x;
      S[1] = (S[1] as number) + a1 * d.x;
      const w = -d.slope;
      L += w * (a0 * a0 + a1 * a1);
      if (d.x === 0) continue;
      const row0 = J[0] as number[];
      const row1 = J[1] as number[];
      row0[0] = (row0[0] as number) + w * a0 * a0;
      row0[1] = (row0[1] as number) + w * a0 * a1;
      row1[0] = (row1[0] as number) + w * a1 * a0;
      row1[1] = (row1[1] as number) + w * a1 * a1;
    }
    expect(a.S).toEqual(S);
    expect(a.J).toEqual(J);
    expect(a.L).toBe(L);
    expect(a.count).toBe(9);
    expect(Buffer.from(a.bitfield, "base64")).toEqual(Buffer.from([0xff, 0x01]));
    // Every member holding every demand agrees.
    expect(checkAggregate(a, members, demands)).toEqual({ verdict: "agrees" });
  });

  it("an aggregate of the demands it held names only those; a member missing one it names cannot judge yet", () => {
    const held = demands.filter((_, i) => i !== 4);
    const partial = build(held);
    expect(partial.count).toBe(8);
    expect(checkAggregate(partial, members, demands)).toEqual({ verdict: "agrees" });
    const full = build(demands);
    expect(checkAggregate(full, members, held)).toEqual({ verdict: "cannot-judge", missing: [members[4]] });
  });

  it("a member without the others' demands checks its own was counted from its Merkle-sum path alone", () => {
    const rootOf = (a: CommitteeAggregate) => ({
      hash: a.root,
      count: a.count,
      sums: [...a.S, ...a.J.flat(), a.L],
    });
    const leafOf = (d: DemandMessage) => ({
      digest: messageDigest(d),
      sums: demandContribution(d.x, d.slope, d.footprint),
    });
    const honest = build(demands);
    const tree = committeeTree(demands);
    if (!tree) throw new Error("no tree");
    demands.forEach((d, i) => {
      expect(verifySumProof(leafOf(d), tree.proof(i), rootOf(honest)), `member ${i}`).toBe(true);
    });
    // Member 4's demand left out: no path from its leaf reaches the aggregate's root.
    const without = demands.filter((_, i) => i !== 4);
    const dropped = build(without);
    const other = committeeTree(without);
    if (!other) throw new Error("no tree");
    for (let i = 0; i < without.length; i++)
      expect(verifySumProof(leafOf(demands[4] as DemandMessage), other.proof(i), rootOf(dropped))).toBe(
        false,
      );
  });

  it("a false sum, a false root or a false count is fraud, and the proof convinces anyone with the members alone", () => {
    const honest = build(demands);
    const lies: [string, Partial<CommitteeAggregate>, string][] = [
      ["S", { S: [(honest.S[0] as number) - 0.5, honest.S[1] as number] }, "sum 0 is"],
      ["L", { L: honest.L + 1 }, "sum 6 is"],
      ["root", { root: build(demands.slice(1)).root }, "root differs"],
      ["count", { count: 8 }, "count 8, 9 demands named"],
    ];
    for (const [what, change, reason] of lies) {
      const check = checkAggregate(lie(honest, change), members, demands);
      if (check.verdict !== "fraud") throw new Error(`${what}: ${check.verdict}`);
      expect(check.reason, what).toContain(reason);
      expect(verifyFraudProof(check.proof, members), what).toEqual({ ok: true, reason: check.reason });
    }
  });

  it("a false fraud proof proves nothing: an honest aggregate, a forged signature, a forged or missing demand", () => {
    const honest = build(demands);
    expect(verifyFraudProof({ aggregate: honest, demands }, members)).toEqual({
      ok: false,
      error: "the aggregate agrees with the demands",
    });
    const liar = lie(honest, { L: honest.L + 1 });
    // The accuser cannot pin the lie on an aggregator that did not sign it.
    expect(verifyFraudProof({ aggregate: { ...liar, sig: honest.sig }, demands }, members)).toEqual({
      ok: false,
      error: "aggregate: bad signature",
    });
    // Nor doctor a demand to manufacture a disagreement.
    const doctored = demands.map((d, i) => (i === 3 ? { ...d, x: d.x + 1 } : d));
    expect(verifyFraudProof({ aggregate: honest, demands: doctored }, members)).toEqual({
      ok: false,
      error: `demand of ${members[3]}: bad signature`,
    });
    expect(verifyFraudProof({ aggregate: liar, demands: demands.slice(1) }, members)).toMatchObject({
      ok: false,
    });
    // An aggregator from outside the committee is no aggregator.
    expect(verifyFraudProof({ aggregate: liar, demands }, members.slice(1))).toMatchObject({ ok: false });
  });
});
