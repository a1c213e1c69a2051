import { describe, expect, it } from "vitest";
import { createSyncPeerLoad } from "../src/machine/sync-peer-load.ts";

const options = { coolMs: 3_000, maxCoolMs: 24_000 };

describe("sync peer load", () => {
  it("leaves out a peer with a request in flight until it ends", () => {
    const load = createSyncPeerLoad(options);
    load.started("b");
    expect(load.ready(["a", "b", "c"], 0)).toEqual(["a", "c"]);
    load.started("b");
    load.finished("b", "answered", 10);
    expect(load.ready(["a", "b", "c"], 10)).toEqual(["a", "c"]);
    load.finished("b", "failed", 20);
    expect(load.ready(["a", "b", "c"], 20)).toEqual(["a", "b", "c"]);
  });

  it("cools a peer off after a timeout, doubling per timeout in a row up to the bound", () => {
    const load = createSyncPeerLoad(options);
    const timeOut = (now: number) => {
      load.started("b");
      load.finished("b", "timed-out", now);
    };
    timeOut(0);
    expect(load.ready(["a", "b"], 2_999)).toEqual(["a"]);
    expect(load.ready(["a", "b"], 3_000)).toEqual(["a", "b"]);
    timeOut(3_000); // second in a row: 6 s
    expect(load.ready(["a", "b"], 8_999)).toEqual(["a"]);
    expect(load.ready(["a", "b"], 9_000)).toEqual(["a", "b"]);
    for (let i = 0; i < 6; i++) timeOut(10_000); // 12, 24, then held at 24 s
    expect(load.ready(["a", "b"], 33_999)).toEqual(["a"]);
    expect(load.ready(["a", "b"], 34_000)).toEqual(["a", "b"]);
  });

  it("cools a peer off after a refusal as after a timeout, and counts both in one row", () => {
    const load = createSyncPeerLoad(options);
    load.started("b");
    load.finished("b", "refused", 0);
    expect(load.ready(["a", "b"], 2_999)).toEqual(["a"]);
    expect(load.ready(["a", "b"], 3_000)).toEqual(["a", "b"]);
    load.started("b");
    load.finished("b", "timed-out", 3_000); // second in a row: 6 s
    load.started("b");
    load.finished("b", "refused", 3_500); // third: 12 s
    expect(load.ready(["a", "b"], 15_499)).toEqual(["a"]);
    expect(load.ready(["a", "b"], 15_500)).toEqual(["a", "b"]);
    load.started("b");
    load.finished("b", "answered", 16_000);
    load.started("b");
    load.finished("b", "refused", 16_000); // first again: 3 s
    expect(load.ready(["a", "b"], 19_000)).toEqual(["a", "b"]);
  });

  it("forgets the timeouts once the peer answers; other failures neither cool nor warm it", () => {
    const load = createSyncPeerLoad(options);
    load.started("b");
    load.finished("b", "timed-out", 0);
    load.started("b");
    load.finished("b", "failed", 3_000);
    load.started("b");
    load.finished("b", "timed-out", 3_500); // still the second in a row: 6 s
    expect(load.ready(["a", "b"], 9_499)).toEqual(["a"]);
    load.started("b");
    load.finished("b", "answered", 9_500);
    load.started("b");
    load.finished("b", "timed-out", 10_000); // first again: 3 s
    expect(load.ready(["a", "b"], 13_000)).toEqual(["a", "b"]);
  });

  it("asks cooling peers, the soonest to end their cooling first, when no idle peer is warm", () => {
    const load = createSyncPeerLoad(options);
    for (const [peer, at] of [
      ["a", 2_000],
      ["b", 0],
      ["c", 1_000],
    ] as const) {
      load.started(peer);
      load.finished(peer, "timed-out", at);
    }
    load.started("d");
    expect(load.ready(["a", "b", "c", "d"], 2_500)).toEqual(["b", "c", "a"]);
    expect(load.ready(["d"], 2_500)).toEqual([]);
    expect(load.ready([], 2_500)).toEqual([]);
  });

  it("forgets idle peers maxCoolMs after their cooling off ended, however they left", () => {
    const load = createSyncPeerLoad(options);
    // Peers that stall one request each under fresh ids, never to answer again.
    for (let i = 0; i < 100; i++) {
      load.started(`stall-${i}`);
      load.finished(`stall-${i}`, "timed-out", 0);
    }
    load.started("busy");
    expect(load.tracked()).toBe(101);
    // Cooling off ends at 3 s; the entries go 24 s later, the one in flight stays.
    expect(load.ready(["a"], 26_999)).toEqual(["a"]);
    expect(load.tracked()).toBe(101);
    expect(load.ready(["a"], 27_000)).toEqual(["a"]);
    expect(load.tracked()).toBe(1);
    // A request ending sweeps too, with no catch-up asking for ready peers.
    load.started("c");
    load.finished("c", "timed-out", 30_000);
    load.finished("busy", "failed", 57_000);
    expect(load.tracked()).toBe(0);
  });

  it("keeps counting timeouts in a row until the entry is forgotten", () => {
    const load = createSyncPeerLoad(options);
    const timeOut = (now: number) => {
      load.started("b");
      load.finished("b", "timed-out", now);
    };
    timeOut(0); // cools until 3 s
    timeOut(26_999); // within 24 s of that: the second in a row, 6 s
    expect(load.ready(["a", "b"], 32_998)).toEqual(["a"]);
    // 24 s after the cooling off ended, forgotten: the next timeout is the first again, 3 s.
    expect(load.ready(["a", "b"], 32_999 + 24_000)).toEqual(["a", "b"]);
    timeOut(60_000);
    expect(load.ready(["a", "b"], 63_000)).toEqual(["a", "b"]);
  });
});
