import { describe, expect, it } from "vitest";
import { MAX_TIMER_MS, timerDelay } from "../src/driver/machine-driver.ts";

describe("the driver's timer delay", () => {
  it("is the time to the deadline while Node's timers can hold it", () => {
    expect(timerDelay(1_000 + 250, 1_000)).toBe(250);
    expect(timerDelay(900, 1_000)).toBe(0);
  });

  it("stops at 2^31 − 1 ms for a deadline further off (a monthly period), never the 1 ms Node would use", () => {
    const now = 1_700_000_000_000;
    const month = 31 * 24 * 3_600_000;
    expect(month).toBeGreaterThan(MAX_TIMER_MS);
    expect(timerDelay(now + month, now)).toBe(MAX_TIMER_MS);
    expect(timerDelay(Number.POSITIVE_INFINITY, now)).toBe(MAX_TIMER_MS);
  });
});
