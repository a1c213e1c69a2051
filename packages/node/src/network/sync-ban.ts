/**
 * When a peer's sync requests over its budget (sync-budget.ts) stop being read at all:
 * `refusals` within `windowMs` start a ban of `banMs`, during which its streams are held unread
 * and reset, as a graylisted peer's are.
 */
export interface SyncBanPolicy {
  readonly refusals: number;
  readonly windowMs: number;
  readonly banMs: number;
}

/**
 * Honest catch-up stays an order of magnitude below the budget, so it is never refused twenty
 * times in ten seconds; a flooder is within a second or two.
 */
export const DEFAULT_SYNC_BAN: SyncBanPolicy = { refusals: 20, windowMs: 10_000, banMs: 60_000 };

/** Peers tracked at most; beyond it the oldest entry goes (an attacker's fresh ids, most likely). */
const MAX_TRACKED = 4_096;

export interface SyncBans {
  /** Counts one budget refusal of `peer`; true when it starts a ban (once per episode). */
  refused(peer: string, now: number): boolean;
  banned(peer: string, now: number): boolean;
  /** Peers tracked (bounded; expired entries are dropped). */
  readonly size: number;
}

interface Entry {
  windowStart: number;
  count: number;
  until: number;
}

/**
 * Gossipsub's graylist already holds a peer's sync streams unread, but only for a peer that
 * speaks gossipsub: one that never subscribes has no score to fall, and each of its over-budget
 * requests was read and answered with an error for as long as it kept asking.
 *
 * Closing the peer's connections and refusing its redials in the connection gater was tried
 * first: the flooder of `test/sync-flood.test.ts` redialled 644 times in 7.5 s, each a Noise
 * handshake before the gater could name it, and the victim spent 41% of a core on it (the test
 * then allowed 35%). A held stream costs next to nothing, and at most 10 are open per connection.
 */
export function createSyncBans(policy: SyncBanPolicy = DEFAULT_SYNC_BAN): SyncBans {
  const peers = new Map<string, Entry>();
  const expired = (e: Entry, now: number) => e.until <= now && e.windowStart + policy.windowMs <= now;
  const room = (now: number): void => {
    if (peers.size < MAX_TRACKED) return;
    for (const [peer, e] of peers) if (expired(e, now)) peers.delete(peer);
    if (peers.size < MAX_TRACKED) return;
    // The oldest entry is most likely the flooder's own, banned: fresh ids must not lift its ban.
    for (const [peer, e] of peers)
      if (e.until <= now) {
        peers.delete(peer);
        return;
      }
    peers.delete(peers.keys().next().value as string);
  };
  return {
    refused(peer, now) {
      let e = peers.get(peer);
      if (!e) {
        room(now);
        e = { windowStart: now, count: 0, until: Number.NEGATIVE_INFINITY };
        peers.set(peer, e);
      }
      if (e.until > now) return false;
      if (now - e.windowStart >= policy.windowMs) {
        e.windowStart = now;
        e.count = 0;
      }
      e.count += 1;
      if (e.count < policy.refusals) return false;
      e.count = 0;
      e.until = now + policy.banMs;
      return true;
    },
    banned(peer, now) {
      const e = peers.get(peer);
      if (!e) return false;
      if (expired(e, now)) peers.delete(peer);
      return e.until > now;
    },
    get size() {
      return peers.size;
    },
  };
}
