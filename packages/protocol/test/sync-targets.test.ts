import { describe, expect, it } from "vitest";
import type { SyncWant } from "../src/machine/machine-io.ts";
import { syncTargets } from "../src/machine/sync-targets.ts";
import { createPrng } from "../src/random/prng.ts";
import type { AgentId } from "../src/wire/ids.ts";

const random = createPrng(7);

/** The peers a catch-up asks (docs/protocol.md §3): the node's sync client and the simulator alike. */
describe("syncTargets", () => {
  it("asks the nodes of the agents whose messages are missing first, and one other peer", () => {
    const peers = ["p1", "p2", "owner1", "p3", "owner2"];
    const want: SyncWant = { type: "messages", epoch: 1, kinds: ["demand"] };
    expect(syncTargets(peers, want, random)).toEqual(["p1", "p2"]);
    // A random draw that swaps nothing keeps the named order.
    expect(syncTargets(peers, { ...want, from: ["owner2", "owner1"] as AgentId[] }, () => 0.999)).toEqual([
      "owner2",
      "owner1",
      "p1",
    ]);
    expect(syncTargets(peers, { ...want, from: ["gone"] as AgentId[] }, random)).toEqual(["p1", "p2"]);
    expect(syncTargets(peers, { type: "decision", epoch: null }, random)).toEqual(["p1", "p2"]);
  });

  it("asks the lead's node first: the divergence probe leads with the disagreeing member", () => {
    const peers = ["p1", "owner3", "owner2", "owner4", "owner1"];
    const from = ["owner1", "gone", "owner2", "owner3", "owner4"] as AgentId[];
    const want: SyncWant = { type: "messages", epoch: 1, round: 0, kinds: ["demand"], from, lead: from[0] };
    // A random draw that swaps nothing keeps the named order.
    expect(syncTargets(peers, want, () => 0.999)).toEqual(["owner1", "owner2", "owner3", "p1"]);
    for (let i = 0; i < 50; i++) expect(syncTargets(peers, want, random)[0]).toBe("owner1");
  });

  it("asks the named nodes in random order: catch-ups name members sorted, and would all go to the lowest id", () => {
    const peers = ["p1", "owner3", "owner2", "owner4", "owner1", "owner5"];
    const from = ["owner1", "owner2", "owner3", "owner4", "owner5"] as AgentId[];
    const want: SyncWant = { type: "messages", epoch: 1, round: 0, kinds: ["demand"], from };
    const firsts = new Map<string, number>();
    for (let i = 0; i < 500; i++) {
      const first = syncTargets(peers, want, random)[0] ?? "";
      firsts.set(first, (firsts.get(first) ?? 0) + 1);
    }
    // Each of the five first about 100 times in 500; the lowest id is not everyone's first.
    expect([...firsts.keys()].sort()).toEqual(from);
    expect(firsts.get("owner1")).toBeLessThan(200);
  });

  it("asks first for the current decision the nodes of the agents whose messages suspended a founding", () => {
    const peers = ["p1", "p2", "signer", "p3"];
    const want: SyncWant = { type: "decision", epoch: null, from: ["stranger", "signer"] as AgentId[] };
    const targets = syncTargets(peers, want, random);
    expect(targets[0]).toBe("signer");
    // A stranger's silence does not block the others' answers: another peer is asked besides.
    expect(targets).toHaveLength(2);
  });
});
