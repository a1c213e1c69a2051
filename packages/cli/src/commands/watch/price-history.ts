import type { NodeStatus } from "@walras/node";

/**
 * The price path as seen by polling: one point per (epoch, round) the node reported, per resource.
 * Kept on the client side, since a node serves only its current state.
 */
export class PriceHistory {
  readonly #points = new Map<string, number[]>();
  #last = "";

  add(s: NodeStatus): void {
    const key = `${s.epoch}/${s.round}`;
    if (s.epoch === null || s.round === null || key === this.#last) return;
    this.#last = key;
    for (const [id, p] of Object.entries(s.prices)) {
      const path = this.#points.get(id) ?? [];
      path.push(p);
      this.#points.set(id, path);
    }
  }

  get(resource: string): readonly number[] {
    return this.#points.get(resource) ?? [];
  }
}
