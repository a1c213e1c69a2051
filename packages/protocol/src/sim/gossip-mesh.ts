import type { Prng } from "../random/prng.ts";

/**
 * The simulator's gossipsub mesh (opt-in, SimulatedNetworkOptions.mesh): who forwards to whom, by
 * node name. Undirected (a GRAFT links both sides). Each node that starts, or restarts, links to
 * `degree` others drawn among those up (all of them while fewer). gossipsub's heartbeat is
 * modelled coarsely, once a second (`maintain`): a node's links to nodes that are down are dropped
 * (the connection closed), and a node that reaches fewer than D_lo of its neighbours grafts random
 * peers it reaches up to `degree`. A link across a partition stays and carries again at the heal.
 * Not modelled: D_hi pruning, IHAVE/IWANT gossip, opportunistic grafting, scores. `links` instead
 * fixes the graph (a test's topology): exactly those, never changed.
 */
export type MeshOptions =
  | { readonly degree: number }
  | { readonly links: readonly (readonly [string, string])[] };

export class GossipMesh {
  readonly #degree: number;
  /** Below this many reachable neighbours a node grafts (the node's D_lo is 2 at D = 3; 4 at 6). */
  readonly #low: number;
  readonly #prng: Prng;
  readonly #neighbours = new Map<string, Set<string>>();

  constructor(options: MeshOptions, prng: Prng) {
    this.#prng = prng;
    if ("links" in options) {
      this.#degree = 0;
      this.#low = 0;
      for (const [a, b] of options.links) this.#link(a, b);
    } else {
      if (!Number.isSafeInteger(options.degree) || options.degree < 1)
        throw new Error(`mesh degree ${options.degree} is not a whole number >= 1`);
      this.#degree = options.degree;
      this.#low = Math.max(1, Math.round((2 * options.degree) / 3));
    }
  }

  /** `name` starts: linked to `degree` of `others` at random (none with a fixed graph). */
  joined(name: string, others: readonly string[]): void {
    const pool = others.filter((o) => o !== name);
    for (let k = 0; k < this.#degree && pool.length > 0; k++) {
      const [other] = pool.splice(Math.floor(this.#prng() * pool.length), 1) as [string];
      this.#link(name, other);
    }
  }

  /** gossipsub's heartbeat at a node that is down: its peers drop it from their meshes. */
  down(name: string): void {
    if (this.#degree === 0) return;
    for (const other of this.#neighbours.get(name) ?? []) this.#neighbours.get(other)?.delete(name);
    this.#neighbours.delete(name);
  }

  /** gossipsub's heartbeat at a node that is up and reaches `reachable`: it grafts below D_lo. */
  maintain(name: string, reachable: readonly string[]): void {
    let count = reachable.filter((r) => this.linked(name, r)).length;
    if (count >= this.#low) return;
    const pool = reachable.filter((r) => r !== name && !this.linked(name, r));
    while (count < this.#degree && pool.length > 0) {
      const [other] = pool.splice(Math.floor(this.#prng() * pool.length), 1) as [string];
      this.#link(name, other);
      count += 1;
    }
  }

  /** Whether `a` and `b` share a mesh link. */
  linked(a: string, b: string): boolean {
    return this.#neighbours.get(a)?.has(b) === true;
  }

  #link(a: string, b: string): void {
    if (a === b) return;
    this.#side(a).add(b);
    this.#side(b).add(a);
  }

  #side(name: string): Set<string> {
    let s = this.#neighbours.get(name);
    if (!s) {
      s = new Set();
      this.#neighbours.set(name, s);
    }
    return s;
  }
}
