import type { WireMessage } from "../wire/messages.ts";
import { carriedPlan, planDigest } from "./epoch-plan.ts";

/** Exclusion plans kept for joiners: at most this many, one per epoch. */
export const MAX_EXCLUSION_PLANS = 4;
/**
 * Plans taken on trust held until the node adopts its first epoch, one per epoch: more than it
 * keeps, because only then does it know which epochs its chain has reached.
 */
export const MAX_TRUSTED_PLANS = 64;

/**
 * What is kept for one epoch: the message carrying its plan, and whether this node judged it (it
 * validated it for the epoch after its own, or adopted its decision) or took it on trust. `null`:
 * two different plans for the epoch came on trust, and neither is served.
 */
interface Kept {
  readonly message: WireMessage | null;
  readonly judged: boolean;
}

/**
 * The decision messages (a `propose`, or a `view` reporting it accepted) whose plans dropped
 * members for equivocation, as signed, newest last (docs/protocol.md §5.1). A node that knows no
 * epoch yet gets them ahead of the current decision when it asks for it: it takes them on trust
 * as it takes that decision, and convicts from their proofs, so an agent excluded before it
 * joined is not admitted again by it (without them: sim seed 52, a joiner re-admitted the
 * equivocator two epochs after its exclusion).
 *
 * A plan this node judged wins over any it took on trust: a node with no epoch takes its first
 * plans unchecked, so an attacker's plan for an old epoch (its throwaway key's two demands are a
 * valid proof) arriving first and kept in place of the real one was served to later joiners,
 * which then admitted the real equivocator again (found by review). A plan taken on trust is
 * still served when it is the only plan this node was shown for its epoch: without that, a node
 * that joined after an exclusion passed on nothing, and a joiner asking only it admitted the
 * equivocator again (sim seed 932). Two different plans for one epoch on trust cancel each other
 * (the node cannot tell the fake); a judged one replaces either. Serving a fake costs nothing
 * worse than serving nothing: its proofs can only convict a key that signed two demands at one
 * price.
 *
 * Fakes must not crowd real plans out (found by review: four fakes for epochs past 1000, first
 * at a node with no epoch, made every real plan the lowest held and so the first forgotten, while
 * the fakes were never served). Plans are taken on trust only before the node adopts its first
 * epoch E, and the real ones it is shown are for epochs before E. So until then it holds up to
 * MAX_TRUSTED_PLANS of them (past that the highest epoch goes: a fake must then fill 64 distinct
 * epochs below a real plan's to push it out); on adopting an epoch, those taken on trust for it or
 * later are dropped (no decider of its chain made them), and then, as ever, past
 * MAX_EXCLUSION_PLANS the lowest epochs go: the node keeps the newest plans before its epoch, as a
 * node that judged them does (a first version evicted trusted plans newest first, and an honest
 * joiner shown epochs 2, 4, 6, 8 that adopted 10 kept 2, 4, 6, 10: second review).
 */
export class ExclusionPlans {
  readonly #byEpoch = new Map<number, Kept>();

  /** `m` carries a plan validated for the epoch after this node's: kept if it has proofs and none of its epoch was judged. */
  validated(m: WireMessage): void {
    if (!carriedPlan(m)?.proofs || this.#byEpoch.get(m.epoch)?.judged) return;
    this.#keep(m.epoch, { message: m, judged: true });
  }

  /** `m` carries a plan taken on trust (this node knew no epoch): kept unless another plan of its epoch was. */
  trusted(m: WireMessage): void {
    const plan = carriedPlan(m);
    if (!plan?.proofs) return;
    const held = this.#byEpoch.get(m.epoch);
    if (!held) {
      this.#keep(m.epoch, { message: m, judged: false });
      return;
    }
    if (held.judged || !held.message) return;
    const heldPlan = carriedPlan(held.message);
    if (heldPlan && planDigest(m.epoch, heldPlan) !== planDigest(m.epoch, plan))
      this.#byEpoch.set(m.epoch, { message: null, judged: false });
  }

  /**
   * This node adopted epoch `epoch` on `evidence`: its proposal (the message carrying the plan)
   * replaces whatever is kept for the epoch (a validated plan that lost to another), or removes it
   * when that plan drops nobody for equivocation. Plans taken on trust for the epoch or later
   * are claims its chain has not reached: dropped.
   */
  adopted(epoch: number, evidence: readonly WireMessage[]): void {
    for (const [e, kept] of this.#byEpoch) if (e >= epoch && !kept.judged) this.#byEpoch.delete(e);
    const m = evidence.find((e) => e.epoch === epoch && carriedPlan(e)?.proofs);
    if (m) this.#keep(epoch, { message: m, judged: true });
    else {
      this.#byEpoch.delete(epoch);
      this.#trim();
    }
  }

  /** Those of epochs before `epoch`, oldest first: a joiner must judge them before it adopts `epoch`. */
  before(epoch: number): WireMessage[] {
    return [...this.#byEpoch.values()]
      .flatMap((k) => (k.message && k.message.epoch < epoch ? [k.message] : []))
      .sort((a, b) => a.epoch - b.epoch);
  }

  #keep(epoch: number, kept: Kept): void {
    this.#byEpoch.set(epoch, kept);
    if (kept.judged) this.#trim();
    else if (this.#byEpoch.size > MAX_TRUSTED_PLANS) this.#byEpoch.delete(Math.max(...this.#byEpoch.keys()));
  }

  /** Past the bound, the lowest epochs go. */
  #trim(): void {
    while (this.#byEpoch.size > MAX_EXCLUSION_PLANS) this.#byEpoch.delete(Math.min(...this.#byEpoch.keys()));
  }
}
