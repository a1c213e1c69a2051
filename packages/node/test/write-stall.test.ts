import { describe, expect, it } from "vitest";
import { watchWrites } from "../src/http/write-stall.ts";

describe("watching a connection's unsent data", () => {
  it("restarts the clock when the buffer shrinks (the client read), not when it grows", () => {
    const first = watchWrites(null, 500, 1_000);
    expect(first).toEqual({ since: 1_000, buffered: 500 });
    // More written, nothing read: still stalled since the first look.
    const grown = watchWrites(first, 900, 2_000);
    expect(grown).toEqual({ since: 1_000, buffered: 900 });
    // Some of it read: a slow reader, not a stopped one.
    expect(watchWrites(grown, 400, 3_000)).toEqual({ since: 3_000, buffered: 400 });
    // Nothing left to send: nothing to watch.
    expect(watchWrites(grown, 0, 3_000)).toBeNull();
  });
});
