import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AgentMachine, MachineAction, MachineEvent, WireMessage } from "@walras/protocol";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { RETRY_FIRST_MS, RETRY_MAX_MS } from "../src/actions/unstored-own-messages.ts";
import { createMachineDriver, type MachineDriver } from "../src/driver/machine-driver.ts";
import { createLogger } from "../src/logging/logger.ts";
import { createMessageWriter } from "../src/store/message-writer.ts";
import { openStore, type Store } from "../src/store/store.ts";
import { stubbedExecutor } from "./stubbed-executor.ts";

let dir: string;
let store: Store;
let driver: MachineDriver | undefined;
beforeEach(async () => {
  vi.useFakeTimers();
  dir = await mkdtemp(join(tmpdir(), "walras-driver-"));
  store = openStore(dir, { maxPageCount: 24 });
});
afterEach(async () => {
  driver?.stop();
  driver = undefined;
  vi.useRealTimers();
  store.close();
  await rm(dir, { recursive: true, force: true });
});

/** Larger than a page, so the capped file has no room for it. */
const big = {
  kind: "demand",
  epoch: 1,
  round: 0,
  agent: "me",
  sig: "x".repeat(6000),
} as unknown as WireMessage;

/** Fills the capped store file; `makeRoom` frees it again. */
function fillStore(): { makeRoom(): void } {
  for (let pad = 1; ; pad++) {
    try {
      store.saveState("pad", "p".repeat(pad * 4096));
    } catch {
      break;
    }
  }
  return { makeRoom: () => store.saveState("pad", "") };
}

/**
 * A quiet node: the machine signs one message at the first event and then has no deadline at all,
 * so nothing but the driver's own timer can bring another event.
 */
function quietNode() {
  const published: string[] = [];
  const events: MachineEvent["type"][] = [];
  const machine = {
    handle: (event: MachineEvent): MachineAction[] => {
      events.push(event.type);
      return events.length === 1 ? [{ type: "publish", message: big }] : [];
    },
    nextDeadline: () => Number.POSITIVE_INFINITY,
  } as unknown as AgentMachine;
  const log = createLogger({ level: "silent" });
  const writer = createMessageWriter(store);
  const executor = stubbedExecutor({
    writer,
    log,
    publish: async (m) => void published.push(m.agent),
    now: () => Date.now(),
  });
  driver = createMachineDriver({ machine, executor, log, now: () => Date.now() });
  return { driver, published, events, writer };
}

/**
 * The first event, its own message refused, then 99 more within RETRY_FIRST_MS, each a refused
 * try. When the first came.
 */
async function burst(driver: MachineDriver): Promise<number> {
  const start = Date.now();
  await driver.handle({ type: "resume", now: start });
  for (let i = 1; i < 100; i++) {
    await vi.advanceTimersByTimeAsync(RETRY_FIRST_MS / 100);
    await driver.handle({ type: "tick", now: Date.now() });
  }
  return start;
}

/** The held message is stored and published `ms` from now, not a millisecond before. */
async function expectSentIn(ms: number, published: readonly string[]): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms - 1);
  expect(published).toEqual([]);
  await vi.advanceTimersByTimeAsync(1);
  expect(published).toEqual(["me"]);
  expect(store.allMessages().map((m) => m.signer)).toEqual(["me"]);
}

describe("machine driver: own messages a full disk held back", () => {
  it("are stored and published at the retry deadline with no further event, backing off while the store refuses", async () => {
    const disk = fillStore();
    const { driver, published, events } = quietNode();
    driver.start();
    await driver.handle({ type: "resume", now: Date.now() });
    expect(published).toEqual([]);

    // Refused again at the first retry: the next comes twice as late.
    await vi.advanceTimersByTimeAsync(RETRY_FIRST_MS);
    expect(events).toEqual(["resume", "tick"]);
    expect(published).toEqual([]);
    disk.makeRoom();
    await expectSentIn(2 * RETRY_FIRST_MS, published);
    // Nothing held: the node sleeps until an event (or the machine's deadline: none here).
    await vi.advanceTimersByTimeAsync(10 * RETRY_MAX_MS);
    expect(events).toEqual(["resume", "tick", "tick"]);
  });

  it("after a burst of events on a full disk, are retried on the time-based schedule, not pushed out to RETRY_MAX_MS", async () => {
    const disk = fillStore();
    const { driver, published, writer } = quietNode();
    driver.start();
    const start = await burst(driver);
    expect(published).toEqual([]);
    // Then quiet: the timer's first retry that writes (once the writer's back-off is over),
    // refused, and the next twice RETRY_FIRST_MS after it.
    await vi.advanceTimersByTimeAsync(Math.max(start + RETRY_FIRST_MS, writer.ownTriedFrom) - Date.now());
    expect(published).toEqual([]);
    disk.makeRoom();
    await expectSentIn(2 * RETRY_FIRST_MS, published);
  });

  it("are retried by the timer once the writer's own back-off is over, not a doubled wait later", async () => {
    const disk = fillStore();
    const { driver, published, writer } = quietNode();
    driver.start();
    const start = await burst(driver);
    disk.makeRoom();
    // The writer's back-off outlasts the timer's first retry, which it refuses without a write:
    // that try is no failure of the store's, and the wait does not double for it.
    const writes = writer.ownTriedFrom;
    expect(writes).toBeGreaterThan(start + RETRY_FIRST_MS);
    await expectSentIn(writes - Date.now(), published);
  });

  it("wait at most RETRY_MAX_MS between retries, and are not retried after stop()", async () => {
    fillStore();
    const { driver, events } = quietNode();
    driver.start();
    await driver.handle({ type: "resume", now: Date.now() });
    // 1 s, 2 s, 4 s, … while under the cap, then two at the cap.
    let waited = 0;
    let doubling = 0;
    for (let delay = RETRY_FIRST_MS; delay < RETRY_MAX_MS; delay *= 2, doubling++) waited += delay;
    await vi.advanceTimersByTimeAsync(waited + 2 * RETRY_MAX_MS);
    const ticks = events.filter((e) => e === "tick").length;
    expect(ticks).toBe(doubling + 2);
    driver.stop();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10 * RETRY_MAX_MS);
    expect(events.filter((e) => e === "tick").length).toBe(ticks);
  });
});
