import { describe, expect, it } from "vitest";
import { SeenCache } from "../src/sim/seen-cache.ts";
import type { Digest } from "../src/wire/ids.ts";

const d = (s: string) => s as Digest;

describe("the simulator's gossipsub seen cache", () => {
  it("holds an id for its lifetime from when it was first seen, not from a later sighting", () => {
    const seen = new SeenCache(1_000);
    seen.add(d("a"), 0);
    seen.add(d("b"), 500);
    seen.add(d("a"), 900);
    expect(seen.has(d("a"), 999)).toBe(true);
    expect(seen.has(d("a"), 1_000)).toBe(false);
    expect(seen.has(d("b"), 1_000)).toBe(true);
    expect(seen.has(d("b"), 1_500)).toBe(false);
    seen.add(d("a"), 2_000);
    expect(seen.has(d("a"), 2_999)).toBe(true);
  });
});
