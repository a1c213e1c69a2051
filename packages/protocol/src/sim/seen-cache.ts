import type { Digest } from "../wire/ids.ts";

/**
 * gossipsub's seen cache, as the simulator models it for one node: the ids of the messages it
 * received by gossip (before validation, whatever the verdict) or published, each for `ttlMs`.
 * gossipsub drops a publish of an id it holds (the node sets `ignoreDuplicatePublishError`), so of
 * an equivocation proof's two versions a node relays only one it first obtained by sync
 * (docs/protocol.md §5.1). Message ids are content hashes on the wire (protocol §3), so a digest
 * stands for one.
 */
export class SeenCache {
  readonly #ttlMs: number;
  /** Digest -> when first seen; insertion order is time order, the clock never going back. */
  readonly #seen = new Map<Digest, number>();

  constructor(ttlMs: number) {
    this.#ttlMs = ttlMs;
  }

  /** Seen at `now`; one already held keeps its first time, as gossipsub does not put it again. */
  add(digest: Digest, now: number): void {
    this.#expire(now);
    if (!this.#seen.has(digest)) this.#seen.set(digest, now);
  }

  has(digest: Digest, now: number): boolean {
    this.#expire(now);
    return this.#seen.has(digest);
  }

  #expire(now: number): void {
    for (const [digest, at] of this.#seen) {
      if (now - at < this.#ttlMs) return;
      this.#seen.delete(digest);
    }
  }
}
