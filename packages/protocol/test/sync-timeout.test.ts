import { describe, expect, it } from "vitest";
import { stuckHeardMs } from "../src/machine/heartbeat.ts";
import { createSyncQueue } from "../src/machine/sync-queue.ts";
import {
  SYNC_PAGE_TIMEOUT_MS,
  syncCoolMs,
  syncMaxCoolMs,
  syncMessagesTimeoutMs,
  syncRequestTimeoutMs,
} from "../src/machine/sync-timeout.ts";
import { createPrng } from "../src/random/prng.ts";

const timeouts = (roundMs: number) => ({ roundMs, announceMs: 200 });

describe("the sync client's request timeout follows the contract (machine/sync-timeout.ts)", () => {
  it("is, for a messages request, the round timeout, at least 1 s and at most 3 s", () => {
    const at = (roundMs: number) => syncRequestTimeoutMs(timeouts(roundMs), "messages");
    expect([250, 1_000, 1_500, 2_000, 3_000, 4_000, 30_000].map(at)).toEqual([
      1_000, 1_000, 1_500, 2_000, 3_000, 3_000, 3_000,
    ]);
  });

  it("is 3 s for a decision or ledger page at any round timeout: a 1 MiB page holds no round up", () => {
    expect(SYNC_PAGE_TIMEOUT_MS).toBe(3_000);
    for (const roundMs of [250, 1_000, 2_000, 30_000])
      for (const type of ["decision", "ledger"] as const) {
        expect(syncRequestTimeoutMs(timeouts(roundMs), type)).toBe(SYNC_PAGE_TIMEOUT_MS);
        expect(
          createSyncQueue({ random: createPrng(1), timeouts: timeouts(roundMs) }).requestTimeoutMs(type),
        ).toBe(SYNC_PAGE_TIMEOUT_MS);
      }
  });

  it("sets the cooling off (once, and at most after three doublings) and the sync queue's wait", () => {
    for (const roundMs of [500, 2_000, 4_000]) {
      const t = timeouts(roundMs);
      expect(syncCoolMs(t)).toBe(syncMessagesTimeoutMs(t));
      expect(syncMaxCoolMs(t)).toBe(8 * syncMessagesTimeoutMs(t));
      expect(createSyncQueue({ random: createPrng(1), timeouts: t }).requestTimeoutMs("messages")).toBe(
        syncMessagesTimeoutMs(t),
      );
    }
  });

  it("sets the stuck rule: three rounds, each long enough for a lost catch-up to be noticed and asked again", () => {
    // roundMs 2 s: 3 · (2 s + 1 s), where a fixed 3 s timeout made it 3 · (3 s + 1 s).
    expect(stuckHeardMs(timeouts(2_000))).toBe(9_000);
    expect(stuckHeardMs(timeouts(4_000))).toBe(15_000);
    expect(stuckHeardMs(timeouts(30_000))).toBe(90_000);
    expect(stuckHeardMs(timeouts(500))).toBe(3_750);
  });

  it("gives the stuck rule the node's longer catch-up wait on a starved network, never less than the contract's", () => {
    // roundMs 2 s with the sync client waiting 3 s: 3 · (3 s + 1 s).
    expect(stuckHeardMs(timeouts(2_000), 3_000)).toBe(12_000);
    expect(stuckHeardMs(timeouts(4_000), 4_500)).toBe(19_500);
    // A shorter or unknown wait leaves the contract's.
    expect(stuckHeardMs(timeouts(2_000), 500)).toBe(9_000);
    expect(stuckHeardMs(timeouts(2_000), null)).toBe(9_000);
  });
});
