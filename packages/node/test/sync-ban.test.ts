import { describe, expect, it } from "vitest";
import { createSyncBans } from "../src/network/sync-ban.ts";

const policy = { refusals: 3, windowMs: 1_000, banMs: 5_000 };

describe("sync bans", () => {
  it("bans after the refusals within the window, once per episode, and the ban ends", () => {
    const bans = createSyncBans(policy);
    expect(bans.refused("p", 0)).toBe(false);
    expect(bans.refused("p", 100)).toBe(false);
    expect(bans.banned("p", 100)).toBe(false);
    expect(bans.refused("p", 200)).toBe(true);
    expect(bans.banned("p", 200)).toBe(true);
    // Refusals during the ban (streams already open) start no second episode.
    expect(bans.refused("p", 300)).toBe(false);
    expect(bans.banned("p", 5_199)).toBe(true);
    expect(bans.banned("p", 5_200)).toBe(false);
    expect(bans.banned("q", 200)).toBe(false);
  });

  it("forgets refusals spread wider than the window", () => {
    const bans = createSyncBans(policy);
    for (let t = 0; t < 10_000; t += 600) expect(bans.refused("slow", t)).toBe(false);
  });

  it("keeps a live ban while fresh peer ids fill the table", () => {
    const bans = createSyncBans(policy);
    let now = 0;
    while (!bans.refused("flooder", now)) now += 1;
    for (let i = 0; i < 5_000; i++) bans.refused(`fresh-${i}`, now);
    expect(bans.size).toBeLessThanOrEqual(4_096);
    expect(bans.banned("flooder", now)).toBe(true);
  });

  it("stays bounded under fresh peer ids, and drops expired entries", () => {
    const bans = createSyncBans(policy);
    for (let i = 0; i < 10_000; i++) bans.refused(`fresh-${i}`, i);
    expect(bans.size).toBeLessThanOrEqual(4_096);
    expect(bans.banned("fresh-9999", 20_000)).toBe(false);
    expect(bans.size).toBeLessThan(4_096);
  });
});
