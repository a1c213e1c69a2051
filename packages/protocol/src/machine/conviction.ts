import type { AgentId } from "../wire/ids.ts";
import type { Equivocation } from "./machine-io.ts";
import { samePrices } from "./validate.ts";

/** The epoch a proof is judged against: the node's current one. */
export interface ConvictingEpoch {
  readonly number: number;
  readonly memberSet: ReadonlySet<AgentId>;
}

/**
 * Whether an equivocation proof excludes its signer from the next epoch (docs/protocol.md §5.1).
 * Only a proof, never a disagreement: two messages that each verify under the agent's key, for one
 * slot, with different content (validate() built it only then). And only where it matters and
 * where honesty cannot produce one:
 *
 * - the agent is a member of the node's current epoch, and both messages are of that epoch: a proof
 *   about an outsider or an old epoch can change nothing now, so it triggers nothing (an old
 *   proof replayed cannot reopen a settled membership, nor can an outsider's key cost a change);
 * - two demands answering the same prices only. A demand is a pure function of the agreed
 *   history, but the history a restarted honest node re-derives can itself have been split by an
 *   equivocator (protocol §10): a node that lost its own demand of round r+1 and its copy of the
 *   liar's round-r demand to a power cut, and then fetched the liar's other version, re-signs
 *   round r+1 at other prices, and a peer that holds both would convict it (found by review, a
 *   repro of exactly that). A split starts from a round whose prices every node agreed on, so the
 *   liar's two demands answer the same prices; an honest re-sign after a split does not. Commits
 *   are not judged at all: an honest node's commit follows from the demand set it closed on, which
 *   the liar split. A commit that differs is still a reason to look (divergence-probe.ts).
 */
export function convicts(proof: Equivocation, epoch: ConvictingEpoch | null): boolean {
  if (!epoch?.memberSet.has(proof.agent)) return false;
  const { first, second } = proof;
  if (first.kind !== "demand" || second.kind !== "demand") return false;
  const scoped = (m: typeof first) => m.epoch === epoch.number && m.agent === proof.agent;
  return scoped(first) && scoped(second) && samePrices(first.prices, second.prices);
}

/** Convicted agents remembered for refusing their re-admission, at most (oldest forgotten first). */
export const MAX_CONVICTED = 1_000;

/**
 * The agents this node holds a proof against, convicted while members (docs/protocol.md §5.1),
 * with the proof: the next epoch it proposes leaves them out and carries their proofs (plan-proofs.ts),
 * and it never admits them again (acceptors still take any plan whose proofs verify: Paxos needs
 * them to, and the proposer of the view decides). Bounded: one entry per agent, only a member of
 * the node's epoch or of a plan's, and the oldest are forgotten past MAX_CONVICTED.
 */
export class Convicted {
  readonly #agents = new Map<AgentId, Equivocation>();

  /** True when `proof.agent` is news. */
  add(proof: Equivocation): boolean {
    if (this.#agents.has(proof.agent)) return false;
    this.#agents.set(proof.agent, proof);
    if (this.#agents.size > MAX_CONVICTED) {
      const oldest = this.#agents.keys().next().value as AgentId;
      this.#agents.delete(oldest);
    }
    return true;
  }

  has(agent: AgentId): boolean {
    return this.#agents.has(agent);
  }

  /** The proof `agent` was convicted on. */
  proof(agent: AgentId): Equivocation | undefined {
    return this.#agents.get(agent);
  }

  get size(): number {
    return this.#agents.size;
  }
}
