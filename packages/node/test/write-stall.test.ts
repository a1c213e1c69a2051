import { describe, expect, it } from "vitest";
import { watchWrites } from "../src/http/write-stall.ts";

describe("watching a connection's unsent data", () => {
  it("restarts the clock whenever the kernel takes some of it, though the buffer grows (a slow reader)", () => {
    const first = watchWrites(null, { buffered: 500, sent: 0, queued: 500 }, 1_000);
    expect(first).toEqual({ since: 1_000, sent: 0, queued: 500 });
    // More written, nothing taken: stalled since the first look.
    const grown = watchWrites(first, { buffered: 900, sent: 0, queued: 500 }, 2_000);
    expect(grown).toEqual({ since: 1_000, sent: 0, queued: 500 });
    // Writes completed while more were added: the buffer is larger than ever, the client reads.
    const slow = watchWrites(grown, { buffered: 1_500, sent: 700, queued: 800 }, 3_000);
    expect(slow?.since).toBe(3_000);
    // Part of the write under way taken (a response handed over in one write): progress too.
    expect(watchWrites(slow, { buffered: 1_500, sent: 700, queued: 300 }, 4_000)?.since).toBe(4_000);
    // Nothing taken since: the clock runs from the last progress.
    expect(watchWrites(slow, { buffered: 1_500, sent: 700, queued: 800 }, 4_000)?.since).toBe(3_000);
    // Nothing left to send: nothing to watch.
    expect(watchWrites(grown, { buffered: 0, sent: 900, queued: 0 }, 3_000)).toBeNull();
  });
});
