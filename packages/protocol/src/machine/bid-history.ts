import type { AgentProfile } from "../economics/agent.ts";

/** A bid and the first epoch that runs with it. */
export interface ScheduledBid {
  /** The first epoch that runs with `profile` (until a later entry's `from`). */
  readonly from: number;
  readonly profile: AgentProfile;
}

/**
 * Which bid each epoch runs with. A bid changed while epoch N is current takes effect at the next
 * slot: it applies from N + 1 on, and N keeps the bid it started with.
 *
 * The node records this (durably) when a bid changes, and a restarted machine is built from the
 * record: a demand of epoch N lost to a power cut must be signed again with N's bid, bit for bit,
 * not with one saved since (docs/protocol.md §10). Only the epoch a restart can still sign in
 * matters, so a change keeps just the bid of the current epoch before it: at most two entries.
 */
export class BidHistory {
  #bids: ScheduledBid[];

  /** `bids` oldest first (increasing `from`); empty for an observer, which never bids. */
  constructor(bids: readonly ScheduledBid[]) {
    for (let i = 1; i < bids.length; i++)
      if ((bids[i] as ScheduledBid).from <= (bids[i - 1] as ScheduledBid).from)
        throw new Error("bid history: entries must be in increasing `from` order");
    this.#bids = [...bids];
  }

  /** The newest bid: what epochs started from now on run with; null for an observer. */
  get latest(): AgentProfile | null {
    return this.#bids.at(-1)?.profile ?? null;
  }

  /**
   * The bid epoch `epoch` runs with. An epoch older than the record (dropped by `change`) gets the
   * oldest bid kept: only a replay starts one, and a replay signs nothing.
   */
  at(epoch: number): AgentProfile | null {
    for (let i = this.#bids.length - 1; i >= 0; i--) {
      const bid = this.#bids[i] as ScheduledBid;
      if (bid.from <= epoch) return bid.profile;
    }
    return this.#bids[0]?.profile ?? null;
  }

  /** `profile` applies from epoch `from` on; the bid epoch `from − 1` runs with stays on record. */
  change(from: number, profile: AgentProfile): void {
    const before = this.#bids.filter((b) => b.from < from).at(-1);
    this.#bids = [...(before ? [before] : []), { from, profile }];
  }

  /** The record, oldest first: what a restart builds its machine from. */
  entries(): readonly ScheduledBid[] {
    return [...this.#bids];
  }
}
