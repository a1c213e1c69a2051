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
 */
export class Amendments {
  readonly #byId = new Map<
    ContractId,
    { proposal: AmendMessage; terms: Contract; approvals: Map<AgentId, ApproveMessage> }
  >();
  readonly #early: ApproveMessage[] = [];

  onAmend(m: AmendMessage): void {
    const id = contractId(m.terms);
    if (this.#byId.has(id)) return;
    const approvals = new Map<AgentId, ApproveMessage>();
    for (const a of this.#early.filter((e) => (e.amendment as string) === id)) approvals.set(a.agent, a);
    this.#byId.set(id, { proposal: m, terms: m.terms, approvals });
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

  /** The first amendment of `currentId` that a quorum of `tip`'s members signed, or null. */
  passed(
    currentId: ContractId,
    tip: Certificate | null,
    quorum: (members: number) => number,
  ): Amendment | null {
    if (!tip) return null;
    const members = new Set<string>(tip.commit.members);
    return (
      this.pending(currentId).find((a) => Amendments.signers(a, members).length >= quorum(members.size)) ??
      null
    );
  }

  /** Once terms took effect, proposals of earlier terms can never pass: forget them. */
  prune(currentId: ContractId): void {
    for (const [id, e] of this.#byId)
      if (e.terms.amends !== currentId && id !== currentId) this.#byId.delete(id);
  }
}
