import { describe, expect, it } from "vitest";
import { createSyncQueue } from "../src/machine/sync-queue.ts";
import { createSyncRequestTimer, nextAnswerTimes } from "../src/machine/sync-request-timer.ts";
import { SYNC_PAGE_TIMEOUT_MS, syncMessagesTimeoutMs } from "../src/machine/sync-timeout.ts";
import { createPrng } from "../src/random/prng.ts";

const timeouts = (roundMs: number) => ({ roundMs, announceMs: 200 });

/**
 * RFC 6298 §2 by hand, for `n` answers of the same `ms`: the first sets SRTT = ms and
 * RTTVAR = ms/2; each further identical one leaves SRTT and multiplies RTTVAR by 1 - β = 3/4.
 */
function rto(ms: number, n: number): number {
  return ms + 4 * (ms / 2) * 0.75 ** (n - 1);
}

describe("the sync client's request timer (machine/sync-request-timer.ts)", () => {
  it("is the contract's fixed timeout until an answer is timed", () => {
    for (const roundMs of [500, 2_000, 4_000]) {
      const timer = createSyncRequestTimer(timeouts(roundMs));
      expect(timer.timeoutMs("messages")).toBe(syncMessagesTimeoutMs(timeouts(roundMs)));
      expect(timer.timeoutMs("decision")).toBe(SYNC_PAGE_TIMEOUT_MS);
      expect(timer.timeoutMs("ledger")).toBe(SYNC_PAGE_TIMEOUT_MS);
    }
  });

  it("stays at the fixed timeout while answers are quick", () => {
    const timer = createSyncRequestTimer(timeouts(4_000));
    for (let i = 0; i < 50; i++) timer.answered("messages", 40 + (i % 7) * 30);
    expect(timer.timeoutMs("messages")).toBe(3_000);
  });

  it("follows slow answers: smoothed time plus four mean deviations, between the fixed timeout and 1.5 times it", () => {
    // roundMs 4 s: the messages timeout's floor is 3 s and its ceiling 4.5 s.
    const at = (n: number) => {
      const timer = createSyncRequestTimer(timeouts(4_000));
      for (let i = 0; i < n; i++) timer.answered("messages", 2_000);
      return timer.timeoutMs("messages");
    };
    expect(at(1)).toBe(4_500); // 2000 + 4 · 1000 = 6000: capped
    expect(at(3)).toBe(4_250); // 2000 + 4 · 562.5
    expect(at(4)).toBe(3_688); // 2000 + 4 · 421.875 = 3687.5, in whole ms rounded up
    expect(at(40)).toBe(3_000); // the deviation has decayed: the floor again
    // Every count of answers between, against the closed form within the bounds.
    for (let n = 1; n <= 40; n++)
      expect(at(n), `${n} answers`).toBe(Math.min(4_500, Math.max(3_000, Math.ceil(rto(2_000, n)))));
  });

  it("weighs a new answer by 1/8 and its distance from the mean by 1/4 (RFC 6298 §2.3)", () => {
    const first = nextAnswerTimes(undefined, 2_000);
    expect(first).toEqual({ srtt: 2_000, rttvar: 1_000 });
    // RTTVAR from the old SRTT: 0.75 · 1000 + 0.25 · |2000 − 2600| = 900; SRTT 0.875 · 2000 + 0.125 · 2600.
    expect(nextAnswerTimes(first, 2_600)).toEqual({ srtt: 2_075, rttvar: 900 });
    expect(nextAnswerTimes({ srtt: 2_075, rttvar: 900 }, 1_275)).toEqual({ srtt: 1_975, rttvar: 875 });
  });

  it("sets the wait from the estimate, capped and floored", () => {
    const timer = createSyncRequestTimer(timeouts(4_000));
    timer.answered("messages", 2_000); // SRTT 2000, RTTVAR 1000
    timer.answered("messages", 2_600); // RTTVAR 0.75·1000 + 0.25·600 = 900, SRTT 1750 + 325 = 2075
    // 2075 + 3600 = 5675: capped.
    expect(timer.timeoutMs("messages")).toBe(4_500);
    for (let i = 0; i < 6; i++) timer.answered("messages", 2_075);
    // RTTVAR 900 · 0.75^6 = 160.2 and SRTT stays 2075: 2075 + 640.7 = 2715.7, under the floor.
    expect(timer.timeoutMs("messages")).toBe(3_000);
  });

  it("keeps one estimate per kind of request, and pages within 3 to 4.5 s", () => {
    const timer = createSyncRequestTimer(timeouts(2_000));
    for (let i = 0; i < 3; i++) timer.answered("decision", 2_500);
    // 2500 + 4 · 1250 · 0.5625 = 5312.5: capped at 1.5 · 3 s.
    expect(timer.timeoutMs("decision")).toBe(4_500);
    expect(timer.timeoutMs("ledger")).toBe(SYNC_PAGE_TIMEOUT_MS);
    expect(timer.timeoutMs("messages")).toBe(2_000);
    for (let i = 0; i < 3; i++) timer.answered("messages", 1_500);
    // 1500 + 4 · 750 · 0.5625 = 3187.5: capped at 1.5 · 2 s.
    expect(timer.timeoutMs("messages")).toBe(3_000);
  });

  it("ignores a time that is not one (negative, NaN, infinite)", () => {
    const timer = createSyncRequestTimer(timeouts(4_000));
    for (const ms of [-1, Number.NaN, Number.POSITIVE_INFINITY]) timer.answered("messages", ms);
    expect(timer.timeoutMs("messages")).toBe(3_000);
    timer.answered("messages", 2_000);
    expect(timer.timeoutMs("messages")).toBe(4_500);
  });

  it("is the sync queue's: what it answers is what the caller waits", () => {
    const queue = createSyncQueue({ random: createPrng(1), timeouts: timeouts(4_000) });
    expect(queue.requestTimeoutMs("messages")).toBe(3_000);
    for (let i = 0; i < 3; i++) queue.answered("messages", 2_000);
    expect(queue.requestTimeoutMs("messages")).toBe(4_250);
    expect(queue.requestTimeoutMs("decision")).toBe(SYNC_PAGE_TIMEOUT_MS);
  });
});
