import type { WireMessage } from "../wire/messages.ts";
import { carriedPlan } from "./epoch-plan.ts";

/** Exclusion plans kept for joiners: the newest of them, one per epoch. */
export const MAX_EXCLUSION_PLANS = 4;

/**
 * The decision messages (a `propose`, or a `view` reporting it accepted) whose plans dropped
 * members for equivocation, as signed, newest last (docs/protocol.md §5.1). A node that knows no
 * epoch yet gets them ahead of the current decision when it asks for it: it takes them on trust
 * as it takes that decision, and convicts from their proofs, so an agent excluded before it
 * joined is not admitted again by it (without them: sim seed 52, a joiner re-admitted the
 * equivocator two epochs after its exclusion). Bounded: one message per epoch, the oldest epoch
 * forgotten past MAX_EXCLUSION_PLANS.
 */
export class ExclusionPlans {
  readonly #byEpoch = new Map<number, WireMessage>();

  /** Keeps `m` if it carries a plan with proofs and no message of its epoch is kept yet. */
  add(m: WireMessage): void {
    if (!carriedPlan(m)?.proofs || this.#byEpoch.has(m.epoch)) return;
    this.#byEpoch.set(m.epoch, m);
    if (this.#byEpoch.size > MAX_EXCLUSION_PLANS) this.#byEpoch.delete(Math.min(...this.#byEpoch.keys()));
  }

  /** Those of epochs before `epoch`, oldest first: a joiner must judge them before it adopts `epoch`. */
  before(epoch: number): WireMessage[] {
    return [...this.#byEpoch.values()].filter((m) => m.epoch < epoch).sort((a, b) => a.epoch - b.epoch);
  }
}
