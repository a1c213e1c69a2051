import { createHash } from "node:crypto";

/**
 * Digests of the message bytes this node has recently accepted: sync answers repeat what a node
 * already holds (a round's demands, an epoch's proposals), and one hash sets those aside before
 * the JSON parse, schema check and signature check they would otherwise cost. Bounded: the
 * oldest digest goes first once `capacity` are held, so a forgotten one is only judged again.
 * The pipeline adds only what the machine vouched for and applied, not what it took on trust or
 * holds for a later epoch: that it may drop and forget, and must then take again when a peer
 * resends it (inbound-pipeline.ts).
 */
export interface RecentDigests {
  has(bytes: Uint8Array): boolean;
  add(bytes: Uint8Array): void;
  readonly size: number;
}

export function createRecentDigests(capacity = 32_768): RecentDigests {
  const set = new Set<string>();
  const ring: string[] = new Array(capacity);
  let next = 0;
  const digest = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("base64");
  return {
    has: (bytes) => set.has(digest(bytes)),
    add: (bytes) => {
      const d = digest(bytes);
      if (set.has(d)) return;
      const evicted = ring[next];
      if (evicted !== undefined) set.delete(evicted);
      ring[next] = d;
      next = (next + 1) % capacity;
      set.add(d);
    },
    get size() {
      return set.size;
    },
  };
}
