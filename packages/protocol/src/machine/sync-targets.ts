import { type Prng, shuffled } from "../random/prng.ts";
import type { SyncWant } from "./machine-io.ts";

/** How many peers one catch-up asks at once: a second covers a first that lacks the messages. */
export const SYNC_FANOUT = 2;

/**
 * The peers one catch-up asks, from `peers` (the caller's, in random order): the node's sync
 * client and the simulator both ask these. The agents the want names (whose messages are missing,
 * or whose messages suspended a founding) hold what it asks for surely: their nodes (peer id =
 * agent id) go first, one more than the fanout, with at least one other peer besides in case they
 * are gone. They go in random order (`random`): catch-ups name members in sorted order, and every
 * node's would otherwise go to the same lowest-id few. A `messages` want's `lead`, if connected,
 * goes before them (the divergence probe's disagreeing member: only its node surely holds the
 * other version, protocol.md §5.1).
 */
export function syncTargets(peers: readonly string[], want: SyncWant, random: Prng): string[] {
  const owners = new Set<string>(want.from ?? []);
  if (owners.size === 0) return peers.slice(0, SYNC_FANOUT);
  const connected = new Set(peers);
  const lead = want.type === "messages" ? want.lead : undefined;
  const named = shuffled(
    random,
    [...owners].filter((a) => a !== lead && connected.has(a)),
  );
  const preferred = (lead !== undefined && connected.has(lead) ? [lead, ...named] : named).slice(
    0,
    SYNC_FANOUT + 1,
  );
  const others = peers.filter((p) => !owners.has(p));
  return [...preferred, ...others.slice(0, Math.max(1, SYNC_FANOUT - preferred.length))];
}
