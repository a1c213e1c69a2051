import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createMessageWriter } from "../src/store/message-writer.ts";
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

  it("keeps a batch it could not write for the next try, and says so", async () => {
    const errors: unknown[] = [];
    let failures = 1;
    const flaky: Store = {
      ...store,
      putMessages: (messages, options) => {
        if (failures-- > 0) throw new Error("disk full");
        return store.putMessages(messages, options);
      },
    };
    const writer = createMessageWriter(flaky, { flushDelayMs: 10, onError: (e) => errors.push(e) });
    writer.received(message("kept"));
    await waitFor("the failed write to be reported", () => errors.length > 0);
    expect((errors[0] as Error).message).toBe("disk full");
    expect(writer.pending).toBe(1);
    writer.received(message("next"));
    await waitFor("the retried batch", () => stored().length === 2);
    expect(stored()).toEqual(["kept", "next"]);
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
