import { describe, expect, it } from "vitest";
import { counterSum, counterSumsBy } from "./prometheus-text.ts";

const text = [
  "# HELP walras_sync_requests_sent_total Sync requests.",
  "# TYPE walras_sync_requests_sent_total counter",
  'walras_sync_requests_sent_total{outcome="answered",purpose="demand:all"} 3',
  'walras_sync_requests_sent_total{outcome="failed",purpose="demand:all"} 2',
  'walras_sync_requests_sent_total{outcome="answered",purpose="decision"} 5',
  'walras_sync_requests_sent_total{outcome="coalesced"} 7',
  'walras_sync_requests_sent_total_other{outcome="answered",purpose="decision"} 11',
].join("\n");

describe("counterSumsBy", () => {
  it("sums a counter by one label's values, leaving out samples without it and other metrics", () => {
    expect(counterSumsBy(text, "walras_sync_requests_sent_total", "purpose")).toEqual(
      new Map([
        ["demand:all", 5],
        ["decision", 5],
      ]),
    );
  });

  it("keeps only the samples with another label's value, when given one", () => {
    const failed = { name: "outcome", value: "failed" };
    expect(counterSumsBy(text, "walras_sync_requests_sent_total", "purpose", failed)).toEqual(
      new Map([["demand:all", 2]]),
    );
    // The by-label sums agree with the overall one over the samples that carry the label.
    expect(counterSum(text, "walras_sync_requests_sent_total", failed)).toBe(2);
  });
});
