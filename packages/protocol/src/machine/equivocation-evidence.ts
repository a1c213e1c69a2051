import type { AgentId } from "../wire/ids.ts";
import type { Equivocation } from "./machine-io.ts";

/** Equivocation proofs kept in all, and per agent: enough to name every liar of any real market. */
export const MAX_EQUIVOCATIONS = 1_000;
export const MAX_EQUIVOCATIONS_PER_AGENT = 4;

/**
 * The equivocation proofs a node keeps (docs/protocol.md §4). A few proofs per agent are enough
 * to convict it (of each kind it lied in, say); keeping every one would let a single key that
 * equivocates each round grow this list (and /status) without bound. Under an open contract keys
 * are free, so throwaway keys could still fill the list: when it is full, a proof against a member
 * of the current epoch (its voters are members too) takes the place of the oldest proof against
 * an agent that is not one. A member's proof is then lost only to MAX_EQUIVOCATIONS proofs
 * against current members.
 */
export class EquivocationEvidence {
  readonly #proofs: Equivocation[] = [];

  /** Oldest first. */
  list(): readonly Equivocation[] {
    return this.#proofs;
  }

  /** Keeps `proof` if it is news and there is room for it; `member` is of the current epoch. */
  record(proof: Equivocation, member: (agent: AgentId) => boolean): boolean {
    const held = this.#proofs.filter((e) => e.agent === proof.agent);
    if (held.length >= MAX_EQUIVOCATIONS_PER_AGENT || held.some((e) => e.slot === proof.slot)) return false;
    if (this.#proofs.length >= MAX_EQUIVOCATIONS) {
      // Judged now, not when the proof came: else keys admitted once, lying and leaving, could
      // fill the list as surely as outsiders.
      const outsider = member(proof.agent) ? this.#proofs.findIndex((e) => !member(e.agent)) : -1;
      if (outsider < 0) return false;
      this.#proofs.splice(outsider, 1);
    }
    this.#proofs.push(proof);
    return true;
  }
}
