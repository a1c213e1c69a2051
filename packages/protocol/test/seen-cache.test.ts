import { describe, expect, it } from "vitest";
import { SeenCache } from "../src/sim/seen-cache.ts";
import type { SimNode } from "../src/sim/simulated-network.ts";
import { createTrace } from "../src/sim/trace.ts";
import type { Digest } from "../src/wire/ids.ts";
import { messageDigest } from "../src/wire/message-codec.ts";
import type { WireMessage } from "../src/wire/messages.ts";

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

describe("the trace of a relay the seen cache drops", () => {
  it("says it was suppressed; a relay that goes out does not", () => {
    const demand = (x: number) =>
      ({
        v: 2,
        kind: "demand",
        contract: "c".repeat(64),
        agent: "liar",
        sig: "s",
        epoch: 1,
        round: 0,
        prices: [1],
        x,
        slope: -1,
        footprint: [1],
      }) as unknown as WireMessage;
    const [first, second] = [demand(1), demand(2)];
    const seen = new SeenCache(1_000);
    seen.add(messageDigest(first), 0);
    const trace = createTrace({ nameOf: (a) => a, keepAll: true });
    const node = { name: "n1", seen } as unknown as SimNode;
    const relay = (message: WireMessage) => ({ type: "relay" as const, message });
    // The second relay of `second` in one event goes nowhere either: the first put it in the cache.
    trace.record({ type: "tick", at: 10, node, actions: [relay(first), relay(second), relay(second)] });
    expect(trace.lines()?.slice(1)).toEqual([
      "         n1 relay demand liar e1 r0 x=1 suppressed (seen cache)",
      "         n1 relay demand liar e1 r0 x=2",
      "         n1 relay demand liar e1 r0 x=2 suppressed (seen cache)",
    ]);
  });
});
