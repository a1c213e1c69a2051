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
 * equivocator two epochs after its exclusion).
 *
 * Only what this node judged is kept: a plan it validated for the epoch after its own, and the
 * decision it adopted. A plan it took on trust is not: a node with no epoch takes its first plan
 * unchecked, so an attacker's plan for an old epoch (its throwaway key's two demands are a valid
 * proof) arriving first was kept, pushed out the real one, and was served to later joiners, which
 * then admitted the real equivocator again (found by review). Bounded: one message per epoch, the
 * lowest epoch forgotten past MAX_EXCLUSION_PLANS.
 */
export class ExclusionPlans {
  readonly #byEpoch = new Map<number, WireMessage>();

  /** `m` carries a plan validated for the epoch after this node's: kept if it has proofs and none of its epoch is. */
  validated(m: WireMessage): void {
    if (!carriedPlan(m)?.proofs || this.#byEpoch.has(m.epoch)) return;
    this.#keep(m);
  }

  /**
   * This node adopted epoch `epoch` on `evidence`: its proposal (the message carrying the plan)
   * replaces whatever is kept for the epoch (a validated plan that lost to another), or removes it
   * when that plan drops nobody for equivocation.
   */
  adopted(epoch: number, evidence: readonly WireMessage[]): void {
    const m = evidence.find((e) => e.epoch === epoch && carriedPlan(e)?.proofs);
    if (m) this.#keep(m);
    else this.#byEpoch.delete(epoch);
  }

  /** Those of epochs before `epoch`, oldest first: a joiner must judge them before it adopts `epoch`. */
  before(epoch: number): WireMessage[] {
    return [...this.#byEpoch.values()].filter((m) => m.epoch < epoch).sort((a, b) => a.epoch - b.epoch);
  }

  #keep(m: WireMessage): void {
    this.#byEpoch.set(m.epoch, m);
    if (this.#byEpoch.size > MAX_EXCLUSION_PLANS) this.#byEpoch.delete(Math.min(...this.#byEpoch.keys()));
  }
}
