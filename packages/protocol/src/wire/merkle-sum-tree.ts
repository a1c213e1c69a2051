import { createHash } from "node:crypto";
import { asDigest, type Digest } from "./ids.ts";

/**
 * Merkle-sum trees, after Chan, Perrig and Song's secure aggregation (CCS'06): a Merkle tree whose
 * every node also carries the sums of the values under it, bound into its hash. An aggregator
 * publishes only the root (hash, count, sums); a member holding its own leaf and the siblings on its
 * path (O(log n) nodes) recomputes the root and so checks that its value was counted, unaltered,
 * in the published sums — the aggregator cannot drop, change or under-count it without the
 * member's check failing (docs/scaling.md §2.5). The root's sums are the aggregate: summed in tree
 * order, deterministic, not necessarily the same bits as a sum in another order.
 *
 * Hashes (SHA-256): a leaf is H("walras/merkle-sum/leaf\n" ‖ digest ‖ sums), an inner node
 * H("walras/merkle-sum/node\n" ‖ left.hash ‖ right.hash ‖ count ‖ sums), with digest and hashes as
 * their 32 raw bytes, count a 32-bit big-endian integer and sums big-endian float64s. Leaves are
 * paired left to right at each level; an odd last node is carried up unchanged (duplicating it, as
 * Bitcoin does, would count its sums twice).
 */
export interface SumLeaf {
  /** What the leaf stands for: for a demand, its message digest. */
  readonly digest: Digest;
  readonly sums: readonly number[];
}

export interface SumNode {
  readonly hash: Digest;
  /** Leaves under this node. */
  readonly count: number;
  readonly sums: readonly number[];
}

/** A sibling on the way from a leaf to the root, and on which side of the path it sits. */
export interface SumProofStep {
  readonly side: "left" | "right";
  readonly node: SumNode;
}

export interface MerkleSumTree {
  readonly root: SumNode;
  /** The siblings from leaf `index` up to the root. */
  proof(index: number): SumProofStep[];
}

/** Deeper than any tree of 2^32 leaves: a longer proof is refused unread. */
const MAX_PROOF_STEPS = 32;
const LEAF_PREFIX = new TextEncoder().encode("walras/merkle-sum/leaf\n");
const NODE_PREFIX = new TextEncoder().encode("walras/merkle-sum/node\n");

export function buildMerkleSumTree(leaves: readonly SumLeaf[]): MerkleSumTree {
  const first = leaves[0];
  if (!first) throw new RangeError("a Merkle-sum tree needs at least one leaf");
  const width = first.sums.length;
  const levels: SumNode[][] = [
    leaves.map((leaf, i) => {
      if (leaf.sums.length !== width)
        throw new RangeError(`leaf ${i}: ${leaf.sums.length} sums, leaf 0 has ${width}`);
      return leafNode(leaf);
    }),
  ];
  for (let level = levels[0] as SumNode[]; level.length > 1; ) {
    const up: SumNode[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const right = level[i + 1];
      up.push(right ? innerNode(level[i] as SumNode, right) : (level[i] as SumNode));
    }
    levels.push(up);
    level = up;
  }
  const root = (levels.at(-1) as SumNode[])[0] as SumNode;
  return {
    root,
    proof: (index) => {
      if (!(Number.isInteger(index) && index >= 0 && index < leaves.length))
        throw new RangeError(`leaf ${index}: the tree has ${leaves.length} leaves`);
      const steps: SumProofStep[] = [];
      let at = index;
      for (const level of levels.slice(0, -1)) {
        const sibling = at % 2 === 0 ? level[at + 1] : level[at - 1];
        if (sibling) steps.push({ side: at % 2 === 0 ? "right" : "left", node: sibling });
        at = Math.floor(at / 2);
      }
      return steps;
    },
  };
}

/**
 * Whether `leaf`, with the siblings of `proof`, rebuilds `root` exactly: its hash, its count and
 * every one of its sums to the bit.
 */
export function verifySumProof(leaf: SumLeaf, proof: readonly SumProofStep[], root: SumNode): boolean {
  if (proof.length > MAX_PROOF_STEPS) return false;
  const width = leaf.sums.length;
  if (root.sums.length !== width || proof.some((s) => s.node.sums.length !== width)) return false;
  let node: SumNode;
  try {
    node = leafNode(leaf);
    for (const step of proof)
      node = step.side === "left" ? innerNode(step.node, node) : innerNode(node, step.node);
  } catch {
    return false;
  }
  return (
    node.hash === root.hash &&
    node.count === root.count &&
    node.sums.every((v, i) => Object.is(v, root.sums[i]))
  );
}

/**
 * A member's terms of the sums the price rule needs (docs/scaling.md §1): a_i x_i (R numbers),
 * |s_i| a_i a_i' (R × R, row-major; 0 while x_i = 0, as H counts members in the market only) and
 * |s_i| ‖a_i‖².
 */
export function demandContribution(x: number, slope: number, footprint: readonly number[]): number[] {
  const w = Math.abs(slope);
  let norm = 0;
  for (const a of footprint) norm += a * a;
  return [
    ...footprint.map((a) => a * x),
    ...footprint.flatMap((a) => footprint.map((b) => (x > 0 ? w * a * b : 0))),
    w * norm,
  ];
}

function leafNode(leaf: SumLeaf): SumNode {
  const digest = Buffer.from(leaf.digest, "hex");
  if (digest.length !== 32 || digest.toString("hex") !== leaf.digest)
    throw new RangeError(`leaf digest "${leaf.digest}" is not 64 lowercase hex digits`);
  return { hash: hashOf(LEAF_PREFIX, [digest], 1, leaf.sums), count: 1, sums: [...leaf.sums] };
}

function innerNode(left: SumNode, right: SumNode): SumNode {
  const sums = left.sums.map((v, i) => v + (right.sums[i] as number));
  const count = left.count + right.count;
  return {
    hash: hashOf(NODE_PREFIX, [Buffer.from(left.hash, "hex"), Buffer.from(right.hash, "hex")], count, sums),
    count,
    sums,
  };
}

function hashOf(
  prefix: Uint8Array,
  parts: readonly Uint8Array[],
  count: number,
  sums: readonly number[],
): Digest {
  if (!sums.every(Number.isFinite)) throw new RangeError("Merkle-sum values must be finite");
  const numbers = Buffer.alloc(4 + 8 * sums.length);
  // A leaf's count is always 1 and is left out of its hash; an inner node's binds its leaf count.
  numbers.writeUInt32BE(count >>> 0, 0);
  sums.forEach((v, i) => {
    numbers.writeDoubleBE(v, 4 + 8 * i);
  });
  const hash = createHash("sha256").update(prefix);
  for (const part of parts) hash.update(part);
  hash.update(prefix === LEAF_PREFIX ? numbers.subarray(4) : numbers);
  return asDigest(hash.digest("hex"));
}
