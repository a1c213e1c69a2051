import { describe, expect, it } from "vitest";
import { Timers } from "../src/machine/timers.ts";

describe("Timers (the machine's one table of deadlines)", () => {
  it("next() is the earliest armed deadline; due() is true once reached; clear() disarms", () => {
    const t = new Timers();
    expect(t.next()).toBeNull();
    t.set("announce", 300);
    t.set("round-stuck", 100);
    t.setEarliest("round-stuck", 200); // later than armed: kept at 100
    t.setEarliest("heartbeat", 50);
    expect(t.next()).toBe(50);
    expect(t.due("round-stuck", 99)).toBe(false);
    expect(t.due("round-stuck", 100)).toBe(true);
    t.clear("heartbeat");
    expect(t.next()).toBe(100);
    expect(t.entries().map(([name]) => name)).toEqual(["round-stuck", "announce"]);
    expect(t.due("found", 1e9)).toBe(false); // never armed
  });
});
