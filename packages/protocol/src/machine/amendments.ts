import type { Certificate } from "../wire/certificate.ts";
import { type Contract, contractId } from "../wire/contract.ts";
import type { AgentId, ContractId } from "../wire/ids.ts";
import type { AmendMessage, ApproveMessage } from "../wire/messages.ts";

/** An amendment as this node holds it: the proposed terms and every signature seen for them. */
export interface Amendment {
  readonly id: ContractId;
  readonly terms: Contract;
  readonly proposal: AmendMessage;
  readonly approvals: ReadonlyMap<AgentId, ApproveMessage>;
}

/** Approvals for ids not seen yet (gossip may bring the approval first), at most. */
const MAX_EARLY_APPROVALS = 256;

/**
 * Amendments by vote (docs/protocol.md §12). A member proposes new terms (`amend`, which counts as
 * its approval); members approve (`approve`). An amendment passes when signers among the members
 * of the ledger's latest certificate reach that certificate's quorum — the same rule an offline
 * verifier applies to the ledger, where the amendment stands right after that certificate.
 *
 * Each proposer's newest amendment only is kept (by its `amend`'s epoch): a member may sign one
 * `amend` per epoch, and one proposing a new one every slot grew the list without bound (199 at
 * one node after 600 s). So the list holds at most one amendment per agent that was a member when
 * it proposed, and a kept one stays approvable for as long as §12 lets it pass (until other
 * terms take effect), however many slots go by.
 */
export class Amendments {
  readonly #byId = new Map<
    ContractId,
    { proposal: AmendMessage; terms: Contract; approvals: Map<AgentId, ApproveMessage> }
  >();
  /** Each proposer's kept amendment. */
  readonly #byProposer = new Map<AgentId, ContractId>();
  readonly #early: ApproveMessage[] = [];

  onAmend(m: AmendMessage): void {
    const id = contractId(m.terms);
    if (this.#byId.has(id)) return;
    const before = this.#byProposer.get(m.agent);
    const older = before === undefined ? undefined : this.#byId.get(before);
    // An older one arriving late (a sync, a replay) changes nothing: the newer stands.
    if (older && older.proposal.epoch >= m.epoch) return;
    if (before !== undefined) this.#byId.delete(before);
    const approvals = new Map<AgentId, ApproveMessage>();
    for (const a of this.#early.filter((e) => (e.amendment as string) === id)) approvals.set(a.agent, a);
    this.#byId.set(id, { proposal: m, terms: m.terms, approvals });
    this.#byProposer.set(m.agent, id);
  }

  onApprove(m: ApproveMessage): void {
    const entry = this.#byId.get(m.amendment as string as ContractId);
    if (entry) {
      if (!entry.approvals.has(m.agent)) entry.approvals.set(m.agent, m);
      return;
    }
    if (this.#early.length >= MAX_EARLY_APPROVALS) this.#early.shift();
    this.#early.push(m);
  }

  has(id: string): boolean {
    return this.#byId.has(id as ContractId);
  }

  get(id: string): Amendment | undefined {
    const e = this.#byId.get(id as ContractId);
    return e
      ? { id: id as ContractId, terms: e.terms, proposal: e.proposal, approvals: e.approvals }
      : undefined;
  }

  /**
   * Amendments of the terms `currentId`, smallest id (hex order) first: arrival order differs from
   * node to node, and when several have passed every node must take the same one (docs/protocol.md §12).
   */
  pending(currentId: ContractId): Amendment[] {
    return [...this.#byId.entries()]
      .filter(([, e]) => e.terms.amends === currentId)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([id]) => this.get(id) as Amendment);
  }

  /** Distinct signers of `a` (proposer and approvers) among `members`. */
  static signers(a: Amendment, members: ReadonlySet<string>): AgentId[] {
    const all = new Set<AgentId>([a.proposal.agent, ...a.approvals.keys()]);
    return [...all].filter((id) => members.has(id)).sort();
  }

  /**
   * The amendment of `currentId` with the smallest id (hex order) that a quorum of `tip`'s members
   * signed, or null. One pass, no sort: it runs on every advance.
   */
  passed(
    currentId: ContractId,
    tip: Certificate | null,
    quorum: (members: number) => number,
  ): Amendment | null {
    if (!tip) return null;
    const members = new Set<string>(tip.commit.members);
    const needed = quorum(members.size);
    let best: ContractId | null = null;
    for (const [id, e] of this.#byId) {
      if (e.terms.amends !== currentId || (best !== null && id >= best)) continue;
      let signers = members.has(e.proposal.agent) ? 1 : 0;
      for (const agent of e.approvals.keys()) if (agent !== e.proposal.agent && members.has(agent)) signers++;
      if (signers >= needed) best = id;
    }
    return best === null ? null : (this.get(best) as Amendment);
  }

  /** Once terms took effect, proposals of earlier terms can never pass: forget them. */
  prune(currentId: ContractId): void {
    for (const [id, e] of this.#byId)
      if (e.terms.amends !== currentId && id !== currentId) this.#byId.delete(id);
    // The terms now in effect stay (their signatures go into the ledger), but no longer as their
    // proposer's pending amendment: its next one must not push them out.
    for (const [agent, id] of this.#byProposer)
      if (this.#byId.get(id)?.terms.amends !== currentId) this.#byProposer.delete(agent);
  }

  /** How many amendments are held (each proposer's newest at most). */
  get size(): number {
    return this.#byId.size;
  }
}
