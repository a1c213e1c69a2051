import { describe, expect, it } from "vitest";
import { createSyncBudget } from "../src/network/sync-budget.ts";

const quotas = {
  messages: { quota: 100, windowMs: 10_000 },
  status: { quota: 2, windowMs: 1_000 },
  contract: { quota: 2, windowMs: 1_000 },
};

describe("sync budget (GCRA)", () => {
  it("lets a fresh peer spend its whole quota at once, then refuses until it refills", () => {
    const budget = createSyncBudget(quotas);
    // 100 tokens per 10 s: 40 + 40 + 20 fit, one more does not.
    expect(budget.allow("p", "messages", 40, 0)).toBe(true);
    expect(budget.allow("p", "messages", 40, 0)).toBe(true);
    expect(budget.allow("p", "messages", 20, 0)).toBe(true);
    expect(budget.allow("p", "messages", 1, 0)).toBe(false);
    // One token refills every 100 ms.
    expect(budget.allow("p", "messages", 1, 99)).toBe(false);
    expect(budget.allow("p", "messages", 1, 100)).toBe(true);
    expect(budget.allow("p", "messages", 10, 1_000)).toBe(false);
    expect(budget.allow("p", "messages", 10, 1_100)).toBe(true);
  });

  it("keeps peers and request types apart, and never grants more than one window's worth", () => {
    const budget = createSyncBudget(quotas);
    expect(budget.allow("a", "status", 1, 0)).toBe(true);
    expect(budget.allow("a", "status", 1, 0)).toBe(true);
    expect(budget.allow("a", "status", 1, 0)).toBe(false);
    expect(budget.allow("b", "status", 1, 0)).toBe(true);
    expect(budget.allow("a", "contract", 1, 0)).toBe(true);
    expect(budget.allow("a", "messages", 101, 0)).toBe(false);
    // A refused request costs nothing: the full quota is still there.
    expect(budget.allow("a", "messages", 100, 0)).toBe(true);
  });

  it("over a long flood grants at most the quota per window plus one full bucket", () => {
    const budget = createSyncBudget(quotas);
    let granted = 0;
    for (let t = 0; t <= 60_000; t += 7) if (budget.allow("flooder", "messages", 25, t)) granted += 25;
    expect(granted).toBeLessThanOrEqual(100 + (60_000 / 10_000) * 100);
    expect(granted).toBeGreaterThanOrEqual((60_000 / 10_000) * 100);
  });
});
