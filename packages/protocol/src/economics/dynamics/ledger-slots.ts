import type { CommitBody } from "../../wire/certificate.ts";
import { type Contract, contractId } from "../../wire/contract.ts";
import type { LedgerEntry } from "../../wire/ledger.ts";
import type { AgentProfile } from "../agent.ts";
import { certifiedSlotOutcome } from "./certified-slot.ts";
import type { SlotMarket } from "./slot-market.ts";
import type { SlotOutcome } from "./slot-record.ts";

/**
 * The bid `agent` (a peer id) ran in the slot `commit` certified under `terms`: what a live run
 * gave its nodes (PUT /agent, a node started with a profile). The ledger cannot say: bids are private.
 */
export type BidAt = (agent: string, commit: CommitBody, terms: Contract) => AgentProfile | undefined;

/** One certified slot of a live network, as a market the engine can clear and the outcome to measure. */
export interface CertifiedSlot {
  readonly epoch: number;
  readonly market: SlotMarket;
  readonly outcome: SlotOutcome;
}

/**
 * A market's ledger (GET /ledger, in chain order) as slots: every certificate is one, with the
 * terms in effect (the contract, then each amendment from its entry on), its certified members and
 * their bids from `bidAt`; it starts from the previous certificate's prices (a warm start, as the
 * network's plan `base` does) and the first from the terms' initial prices. Throws a RangeError
 * naming the epoch when a certificate names terms other than those the ledger put in effect, or a
 * member whose bid `bidAt` does not know.
 */
export function ledgerSlots(
  contract: Contract,
  entries: readonly LedgerEntry[],
  bidAt: BidAt,
): CertifiedSlot[] {
  const marketId = contractId(contract);
  let terms = contract;
  let termsId: string = marketId;
  let previous: { members: readonly string[]; prices: readonly number[] } | null = null;
  const slots: CertifiedSlot[] = [];
  for (const entry of entries) {
    if (entry.type === "amendment") {
      terms = entry.terms;
      termsId = contractId(entry.terms);
      continue;
    }
    const commit = entry.certificate.commit;
    const certified = commit.terms ?? marketId;
    if (certified !== termsId)
      throw new RangeError(
        `epoch ${commit.epoch}: certified under terms ${certified}, the ledger has ${termsId}`,
      );
    const agents = commit.members.map((id) => {
      const bid = bidAt(id, commit as CommitBody, terms);
      if (!bid) throw new RangeError(`epoch ${commit.epoch}: no bid known for member ${id}`);
      return { id, ...bid };
    });
    const before = new Set(previous?.members ?? []);
    const now = new Set(commit.members);
    const market: SlotMarket = {
      slot: slots.length,
      scenario: { contract: terms, agents },
      joined: commit.members.filter((id) => !before.has(id)),
      left: [...before].filter((id) => !now.has(id)),
    };
    slots.push({
      epoch: commit.epoch,
      market,
      outcome: certifiedSlotOutcome(commit, previous?.prices ?? terms.initialPrices),
    });
    previous = { members: commit.members, prices: commit.prices };
  }
  return slots;
}
