import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createMessageWriter, MAX_RETRY_DELAY_MS } from "../src/store/message-writer.ts";
import { openStore, type Store, type StoredMessage } from "../src/store/store.ts";
import { waitFor } from "./wait-for.ts";

let dir: string;
let store: Store;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "walras-writer-"));
  store = openStore(dir);
});
afterEach(async () => {
  store.close();
  await rm(dir, { recursive: true, force: true });
});

const message = (digest: string, kind = "demand"): StoredMessage => ({
  digest,
  kind,
  epoch: 0,
  round: 0,
  signer: "agent",
  bytes: new TextEncoder().encode(digest),
  receivedAt: 1,
});
const stored = () => store.allMessages().map((m) => m.digest);

describe("message writer", () => {
  it("holds received messages for one batch, and writes an own message after them at once", () => {
    const writer = createMessageWriter(store, { flushDelayMs: 60_000 });
    writer.received(message("r1"));
    writer.received(message("r2"));
    expect(writer.pending).toBe(2);
    expect(stored()).toEqual([]);
    writer.own(message("own", "price"), false);
    // Everything received before the own message is stored with it, in the order it came.
    expect(stored()).toEqual(["r1", "r2", "own"]);
    expect(writer.pending).toBe(0);
  });

  it("writes a batch once it is full, and the rest when its delay has passed", async () => {
    const writer = createMessageWriter(store, { flushDelayMs: 20, maxBatch: 3 });
    for (const d of ["a", "b", "c", "d"]) writer.received(message(d));
    expect(stored()).toEqual(["a", "b", "c"]);
    await waitFor("the delayed batch", () => stored().length === 4);
    expect(stored()).toEqual(["a", "b", "c", "d"]);
  });

  it("flush writes what is pending; a message stored twice is stored once", () => {
    const writer = createMessageWriter(store, { flushDelayMs: 60_000 });
    writer.received(message("x"));
    writer.received(message("x"));
    writer.flush();
    expect(stored()).toEqual(["x"]);
    writer.flush();
    expect(stored()).toEqual(["x"]);
  });

  it("tries a batch it could not write again by itself, backing off, until it is written; says so each time", async () => {
    vi.useFakeTimers();
    try {
      let full = true;
      const tries: number[] = [];
      const errors: unknown[] = [];
      const filling: Store = {
        ...store,
        putMessages: (messages, options) => {
          tries.push(Date.now());
          if (full) throw new Error("disk full");
          return store.putMessages(messages, options);
        },
      };
      const writer = createMessageWriter(filling, { flushDelayMs: 50, onError: (e) => errors.push(e) });
      const start = Date.now();
      writer.received(message("kept"));
      // A quiet node: no other message comes to carry the batch.
      await vi.advanceTimersByTimeAsync(10_000);
      expect(writer.pending).toBe(1);
      expect(writer.failing).toBe(true);
      expect((errors[0] as Error).message).toBe("disk full");
      expect(errors).toHaveLength(tries.length);
      // The batch delay, then waits doubling from it up to MAX_RETRY_DELAY_MS.
      const waits = tries.map((t, i) => t - (tries[i - 1] ?? start));
      expect(waits.slice(0, 7)).toEqual([50, 50, 100, 200, 400, 800, 1_600]);
      expect(waits.slice(7).every((w) => w === MAX_RETRY_DELAY_MS)).toBe(true);
      full = false;
      await vi.advanceTimersByTimeAsync(MAX_RETRY_DELAY_MS);
      expect(stored()).toEqual(["kept"]);
      expect(writer.failing).toBe(false);
      // Written: no timer left running.
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it("refuses an own message at once while a failed write backs off, and tries it once the back-off is over", () => {
    let full = true;
    let attempts = 0;
    let clock = 0;
    const filling: Store = {
      ...store,
      putMessages: (messages, options) => {
        attempts++;
        if (full) throw new Error("disk full");
        return store.putMessages(messages, options);
      },
    };
    const writer = createMessageWriter(filling, { flushDelayMs: 50, now: () => clock });
    for (let i = 0; i < 600; i++) writer.received(message(`r${i}`));
    expect(() => writer.own(message("own", "price"), true)).toThrow("disk full");
    expect(attempts).toBe(1);
    // Each event retries the held own message: no transaction of the whole batch for any of them.
    for (clock = 0; clock < 50; clock++)
      expect(() => writer.own(message("own", "price"), true)).toThrow("disk full");
    expect(attempts).toBe(1);
    full = false;
    writer.own(message("own", "price"), true);
    expect(attempts).toBe(2);
    expect(stored()).toHaveLength(601);
    expect(stored().at(-1)).toBe("own");
    writer.stop();
  });

  it("on a full disk tries a full batch once per delay, not again for each message that comes", () => {
    let full = true;
    let attempts = 0;
    const errors: unknown[] = [];
    const filling: Store = {
      ...store,
      putMessages: (messages, options) => {
        attempts++;
        if (full) throw new Error("database or disk is full");
        return store.putMessages(messages, options);
      },
    };
    const writer = createMessageWriter(filling, {
      flushDelayMs: 60_000,
      maxBatch: 2,
      onError: (e) => errors.push(e),
    });
    // A sync answer's worth: all kept in memory, the write tried once.
    for (let i = 0; i < 256; i++) writer.received(message(`m${i}`));
    expect(attempts).toBe(1);
    expect(errors).toHaveLength(1);
    expect(writer.pending).toBe(256);
    full = false;
    writer.flush();
    expect(stored()).toHaveLength(256);
    // Writing again: a full batch is written at once as before.
    writer.received(message("a"));
    writer.received(message("b"));
    expect(writer.pending).toBe(0);
  });
});
