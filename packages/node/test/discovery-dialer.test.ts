import { describe, expect, it } from "vitest";
import { type DiscoveredPeer, decideDiscoveredDial } from "../src/network/discovery-dialer.ts";

const policy = { targetPeers: 12, minPeers: 6, deferMs: 3_000 };
const base: DiscoveredPeer = { self: "b", peer: "c", known: false, reach: 1, deferred: false };

describe("decideDiscoveredDial", () => {
  it("lets the smaller id dial at once and the larger only after the deferral", () => {
    expect(decideDiscoveredDial(policy, base)).toBe("now");
    expect(decideDiscoveredDial(policy, { ...base, self: "c", peer: "b" })).toBe("later");
    expect(decideDiscoveredDial(policy, { ...base, self: "c", peer: "b", deferred: true })).toBe("now");
  });

  it("never dials itself, a peer it is connected or dialing to, or past the target", () => {
    expect(decideDiscoveredDial(policy, { ...base, peer: "b" })).toBe("no");
    expect(decideDiscoveredDial(policy, { ...base, known: true })).toBe("no");
    expect(decideDiscoveredDial(policy, { ...base, known: true, deferred: true })).toBe("no");
    expect(decideDiscoveredDial(policy, { ...base, reach: 11 })).toBe("now");
    expect(decideDiscoveredDial(policy, { ...base, reach: 12 })).toBe("no");
    expect(decideDiscoveredDial(policy, { ...base, self: "c", peer: "b", reach: 12, deferred: true })).toBe(
      "no",
    );
  });
});
