import { describe, expect, it } from "vitest";
import { createSyncBudget } from "../src/network/sync-budget.ts";

const quotas = {
  messages: { requests: { quota: 10, windowMs: 1_000 }, messages: { quota: 100, windowMs: 10_000 } },
  decision: { requests: { quota: 10, windowMs: 1_000 }, messages: { quota: 100, windowMs: 10_000 } },
  ledger: { requests: { quota: 2, windowMs: 1_000 } },
  status: { requests: { quota: 2, windowMs: 1_000 } },
  contract: { requests: { quota: 2, windowMs: 1_000 } },
};

describe("sync budget (GCRA)", () => {
  it("admits a fresh peer's whole request quota at once, then one per refill", () => {
    const budget = createSyncBudget(quotas);
    for (let i = 0; i < 10; i++) expect(budget.allow("p", "messages", 0)).toBe(true);
    expect(budget.allow("p", "messages", 0)).toBe(false);
    // One request refills every 100 ms.
    expect(budget.allow("p", "messages", 99)).toBe(false);
    expect(budget.allow("p", "messages", 100)).toBe(true);
    expect(budget.allow("p", "messages", 100)).toBe(false);
  });

  it("charges messages as served: admitted while any are left, then refused until the debt is repaid", () => {
    const budget = createSyncBudget(quotas);
    expect(budget.allow("p", "messages", 0)).toBe(true);
    budget.charge("p", "messages", 60, 0);
    expect(budget.allow("p", "messages", 0)).toBe(true);
    // 60 + 60 = 120 served: 20 more than the quota, so 2 s of debt (one message per 100 ms).
    budget.charge("p", "messages", 60, 0);
    expect(budget.allow("p", "messages", 0)).toBe(false);
    expect(budget.allow("p", "messages", 2_000)).toBe(false);
    expect(budget.allow("p", "messages", 2_100)).toBe(true);
  });

  it("keeps peers and request types apart", () => {
    const budget = createSyncBudget(quotas);
    expect(budget.allow("a", "status", 0)).toBe(true);
    expect(budget.allow("a", "status", 0)).toBe(true);
    expect(budget.allow("a", "status", 0)).toBe(false);
    expect(budget.allow("b", "status", 0)).toBe(true);
    expect(budget.allow("a", "contract", 0)).toBe(true);
    budget.charge("a", "messages", 1_000, 0);
    expect(budget.allow("a", "messages", 0)).toBe(false);
    expect(budget.allow("b", "messages", 0)).toBe(true);
    // Decisions are served from a message budget of their own.
    expect(budget.allow("a", "decision", 0)).toBe(true);
  });

  it("over a long flood of full pages serves at most the quota per window, plus one page of debt", () => {
    const budget = createSyncBudget(quotas);
    let served = 0;
    for (let t = 0; t <= 60_000; t += 7)
      if (budget.allow("flooder", "messages", t)) {
        budget.charge("flooder", "messages", 25, t);
        served += 25;
      }
    expect(served).toBeLessThanOrEqual(100 + 25 + (60_000 / 10_000) * 100);
    expect(served).toBeGreaterThanOrEqual((60_000 / 10_000) * 100);
  });
});
