import { type AgentProfile, BidHistory, canonicalJson, type ScheduledBid } from "@walras/protocol";
import type { Store } from "./store.ts";

/**
 * The agent's bids as this data dir keeps them across restarts: which bid each epoch runs with
 * (protocol BidHistory: the current epoch's and the next's), and the agent file they continue.
 *
 * A bid changed through the API, or by editing the agent file between runs, takes effect at the
 * next slot. A restarted node must run the epoch it was in with that epoch's bid, or a demand of
 * it lost to a power cut would be signed again with the new bid: two demands for one slot, proof
 * of equivocation against an honest node. So a change is recorded here, with the epoch it applies
 * from, before the machine is told, and the restarted machine is built from the record.
 *
 * A change is fsynced before `change` returns, so before the API answers: a bid the operator was
 * told is saved must outlive a power cut, though nothing was bid with it yet (a change comes from
 * the operator, a few a day: the fsync costs nothing that matters). The record made at start is
 * not: the agent file it comes from is still there after a cut.
 */
export interface BidRecord {
  /** Which bid each epoch runs with, oldest first: what the machine is built from. */
  readonly bids: readonly ScheduledBid[];
  /** The newest bid: the agent file's when it changed since the record was made. */
  readonly latest: AgentProfile;
  /**
   * The agent file's bid while the file differs from the one the record continues and no change
   * was recorded since (null otherwise). It is a bid change like one through the API: record it
   * with `change` once the store is replayed, then hand it to the machine. A bid saved through the
   * API in the meantime is newer, and wins.
   */
  readonly fileChanged: AgentProfile | null;
  /** Records that `profile` applies from epoch `from` on (`machine.bidFrom()`), before the machine may use it. */
  change(from: number, profile: AgentProfile): void;
}

/** The state key of the record. */
export const BIDS_KEY = "bids";
/** Where the node kept an API-changed bid before the record: `{ from: agent file, current }`. */
export const LEGACY_PROFILE_KEY = "profile";

interface StoredBids {
  /** The agent file's profile (canonical JSON) the record continues. */
  readonly file: string;
  readonly bids: readonly ScheduledBid[];
}

export function loadBidRecord(store: Store, fromFile: AgentProfile): BidRecord {
  const file = canonicalJson(fromFile);
  const saved = store.loadState(BIDS_KEY) as StoredBids | undefined;
  let history = new BidHistory(saved?.bids ?? legacyBids(store, file, fromFile));
  let recordedFile = saved?.file ?? file;
  if (!saved) store.saveState(BIDS_KEY, { file, bids: history.entries() });
  const fileChanged = (): AgentProfile | null => (recordedFile === file ? null : fromFile);
  return {
    get bids() {
      return history.entries();
    },
    get latest() {
      return fileChanged() ?? (history.latest as AgentProfile);
    },
    get fileChanged() {
      return fileChanged();
    },
    change: (from, profile) => {
      const next = new BidHistory(history.entries());
      next.change(from, profile);
      // Stored first: a write that fails (a full disk) throws and leaves the record as it was.
      store.saveState(BIDS_KEY, { file, bids: next.entries() }, { durable: true });
      history = next;
      recordedFile = file;
    },
  };
}

/**
 * A data dir from before the record: the API-changed bid it kept, when the agent file is the one
 * it was changed from; else the file's bid. Which bid its epochs ran with before is not known.
 */
function legacyBids(store: Store, file: string, fromFile: AgentProfile): ScheduledBid[] {
  const legacy = store.loadState(LEGACY_PROFILE_KEY) as { from: string; current: AgentProfile } | undefined;
  return [{ from: 0, profile: legacy && legacy.from === file ? legacy.current : fromFile }];
}
