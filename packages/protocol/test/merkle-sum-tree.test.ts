import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { asDigest } from "../src/wire/ids.ts";
import {
  buildMerkleSumTree,
  demandContribution,
  type SumLeaf,
  type SumProofStep,
  verifySumProof,
} from "../src/wire/merkle-sum-tree.ts";

const digestOf = (i: number) => asDigest(createHash("sha256").update(`leaf ${i}`).digest("hex"));

/** Leaves with small integer sums: any order of addition gives the same exact total. */
const integerLeaves = (width: number) =>
  fc
    .array(fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: width, maxLength: width }), {
      minLength: 1,
      maxLength: 300,
    })
    .map((rows) => rows.map((sums, i): SumLeaf => ({ digest: digestOf(i), sums })));

describe("Merkle-sum trees (docs/scaling.md §2.5)", () => {
  it("the root carries every leaf's sums and count, and every leaf's proof rebuilds it", () => {
    fc.assert(
      fc.property(integerLeaves(3), (leaves) => {
        const tree = buildMerkleSumTree(leaves);
        const total = [0, 0, 0];
        for (const leaf of leaves)
          for (const [i, v] of leaf.sums.entries()) total[i] = (total[i] as number) + v;
        expect(tree.root.sums).toEqual(total);
        expect(tree.root.count).toBe(leaves.length);
        leaves.forEach((leaf, i) => {
          const proof = tree.proof(i);
          expect(proof.length).toBeLessThanOrEqual(Math.ceil(Math.log2(leaves.length)));
          expect(verifySumProof(leaf, proof, tree.root), `leaf ${i} of ${leaves.length}`).toBe(true);
        });
      }),
      { numRuns: 100 },
    );
  });

  it("a member whose value was altered or dropped finds out; so does one shown a false subtree sum", () => {
    fc.assert(
      fc.property(
        integerLeaves(2).filter((l) => l.length >= 2),
        fc.nat(),
        fc.integer({ min: 1, max: 5 }),
        (leaves, pick, delta) => {
          const j = pick % leaves.length;
          const mine = leaves[j] as SumLeaf;
          // Altered: the aggregator counted member j's first term as less than it is.
          const altered = leaves.map((l, i) =>
            i === j ? { ...l, sums: [(l.sums[0] as number) - delta, ...l.sums.slice(1)] } : l,
          );
          const a = buildMerkleSumTree(altered);
          expect(verifySumProof(mine, a.proof(j), a.root)).toBe(false);
          // Dropped: whatever path the aggregator hands over, member j's leaf is not under the root.
          const dropped = buildMerkleSumTree(leaves.filter((_, i) => i !== j));
          for (let i = 0; i < leaves.length - 1; i++)
            expect(verifySumProof(mine, dropped.proof(i), dropped.root)).toBe(false);
          // Honest tree, but a sibling's sums shown smaller than they are (its hash kept).
          const tree = buildMerkleSumTree(leaves);
          const proof = tree.proof(j);
          const step = proof[0] as SumProofStep;
          const lied: SumProofStep[] = [
            { ...step, node: { ...step.node, sums: step.node.sums.map((v) => v - delta) } },
            ...proof.slice(1),
          ];
          expect(verifySumProof(mine, lied, tree.root)).toBe(false);
          expect(verifySumProof(mine, proof, tree.root)).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("binds every bit: a root changes when one leaf's sum moves by one ulp, or its leaf count changes", () => {
    const leaves = [0.1, 0.2, 0.3].map((v, i): SumLeaf => ({ digest: digestOf(i), sums: [v] }));
    const root = buildMerkleSumTree(leaves).root;
    const nudged = leaves.map((l, i) => (i === 1 ? { ...l, sums: [0.2 + Number.EPSILON / 8] } : l));
    expect(nudged[1]?.sums[0]).not.toBe(0.2);
    expect(buildMerkleSumTree(nudged).root.hash).not.toBe(root.hash);
    // A root claiming another count with the same hash and sums is not the tree's.
    expect(
      verifySumProof(leaves[0] as SumLeaf, buildMerkleSumTree(leaves).proof(0), { ...root, count: 4 }),
    ).toBe(false);
  });

  it("refuses malformed input with the reason: no leaves, ragged sums, bad digests, out-of-range leaves", () => {
    expect(() => buildMerkleSumTree([])).toThrow("at least one leaf");
    expect(() =>
      buildMerkleSumTree([
        { digest: digestOf(0), sums: [1, 2] },
        { digest: digestOf(1), sums: [1] },
      ]),
    ).toThrow("leaf 1: 1 sums, leaf 0 has 2");
    expect(() => buildMerkleSumTree([{ digest: asDigest("ab"), sums: [1] }])).toThrow(
      "64 lowercase hex digits",
    );
    expect(() => buildMerkleSumTree([{ digest: digestOf(0), sums: [Number.NaN] }])).toThrow("finite");
    expect(() => buildMerkleSumTree([{ digest: digestOf(0), sums: [1] }]).proof(1)).toThrow(
      "the tree has 1 leaves",
    );
    const tree = buildMerkleSumTree([{ digest: digestOf(0), sums: [1] }]);
    expect(verifySumProof({ digest: digestOf(0), sums: [1, 2] }, [], tree.root)).toBe(false);
  });

  it("a demand's terms are what the price rule sums: a x, |s| a a' while in the market, |s| |a|^2", () => {
    expect(demandContribution(2, -0.5, [1, -3])).toEqual([2, -6, 0.5, -1.5, -1.5, 4.5, 5]);
    // Out of the market: no curvature term, but its slope bound still counts (as L does).
    expect(demandContribution(0, -0.5, [1, -3])).toEqual([0, -0, 0, 0, 0, 0, 5]);
  });
});
