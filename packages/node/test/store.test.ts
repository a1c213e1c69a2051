import { spawn } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  openStore,
  STORE_FILE,
  STORE_SCHEMA_VERSION,
  type Store,
  type StoredMessage,
} from "../src/store/store.ts";
import { withNoRoom } from "./no-room.ts";
import { waitFor } from "./wait-for.ts";

let dir: string;
let store: Store | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "walras-store-"));
});
afterEach(async () => {
  store?.close();
  store = undefined;
  await rm(dir, { recursive: true, force: true });
});

function message(
  digest: string,
  kind: string,
  epoch: number,
  round: number | undefined,
  signer: string,
): StoredMessage {
  const m: StoredMessage = {
    digest,
    kind,
    epoch,
    signer,
    bytes: new TextEncoder().encode(`${digest}:${kind}:${signer}`),
    receivedAt: 1000,
  };
  if (round !== undefined) m.round = round;
  return m;
}

describe("store", () => {
  it("keeps everything across close and reopen", async () => {
    store = openStore(dir);
    const contractJson = '{"capacity":[100],"name":"test"}';
    store.putContract("c1", contractJson);
    const written = [
      message("d3", "price", 1, 0, "b"),
      message("d1", "demand", 1, 0, "b"),
      message("d2", "demand", 1, 0, "a"),
      message("d4", "demand", 1, 1, "a"),
      message("d5", "membership", 1, undefined, "c"),
      message("d6", "demand", 2, 0, "a"),
    ];
    expect(store.putMessages(written)).toBe(written.length);
    store.putCertificate(1, new Uint8Array([1, 1]));
    store.putCertificate(2, new Uint8Array([2, 2]));
    store.saveState("machine", { epoch: 2, prices: [0.5, 1.25], phase: "demand" });
    store.close();

    store = openStore(dir);
    expect(store.getContract("c1")).toBe(contractJson);
    expect(store.getContract("unknown")).toBeUndefined();

    const epoch1 = store.messages({ epoch: 1 });
    // Expected order computed independently: round (nulls first in SQLite), kind, signer, digest.
    const expected = written
      .filter((m) => m.epoch === 1)
      .sort(
        (x, y) =>
          (x.round ?? -1) - (y.round ?? -1) ||
          x.kind.localeCompare(y.kind) ||
          x.signer.localeCompare(y.signer) ||
          x.digest.localeCompare(y.digest),
      );
    expect(epoch1.map((m) => m.digest)).toEqual(expected.map((m) => m.digest));
    expect(epoch1.find((m) => m.digest === "d5")?.round).toBeUndefined();
    expect(epoch1.find((m) => m.digest === "d3")?.bytes).toEqual(written[0]?.bytes);

    expect(store.messages({ epoch: 1, round: 0, kinds: ["demand"] }).map((m) => m.digest)).toEqual([
      "d2",
      "d1",
    ]);
    expect(store.messages({ epoch: 1, kinds: [] })).toEqual([]);
    expect(store.messages({ epoch: 3 })).toEqual([]);

    expect(store.latestCertificate()).toEqual({ epoch: 2, bytes: new Uint8Array([2, 2]) });
    expect(store.certificates().map((c) => c.epoch)).toEqual([1, 2]);
    expect(store.loadState("machine")).toEqual({ epoch: 2, prices: [0.5, 1.25], phase: "demand" });
    expect(store.loadState("missing")).toBeUndefined();
  });

  it("stores a message once however often it is put", () => {
    store = openStore(dir);
    const m = message("same", "demand", 1, 0, "a");
    expect(store.putMessage(m)).toBe(true);
    expect(store.putMessage({ ...m, receivedAt: 2000 })).toBe(false);
    expect(store.putMessages([m, message("other", "demand", 1, 0, "b")])).toBe(1);
    const stored = store.messages({ epoch: 1 });
    expect(stored.map((s) => s.digest).sort()).toEqual(["other", "same"]);
    expect(stored.find((s) => s.digest === "same")?.receivedAt).toBe(1000);
  });

  it("pages a query in storage order, each page continuing after the last", () => {
    store = openStore(dir);
    // Written out of the canonical order on purpose: pages follow the order of storage.
    const written = Array.from({ length: 7 }, (_, i) =>
      message(`p${6 - i}`, i % 2 ? "price" : "demand", 1, 0, "a"),
    );
    written.push(
      message("other-epoch", "demand", 2, 0, "a"),
      message("membership", "join", 1, undefined, "b"),
    );
    store.putMessages(written);
    const pages: string[][] = [];
    let after = 0;
    for (;;) {
      const page = store.messagePage({ epoch: 1, kinds: ["demand", "price"] }, after, 3);
      pages.push(page.messages.map((m) => m.digest));
      if (page.next === null) break;
      expect(page.next).toBe(page.messages.at(-1)?.position);
      after = page.next;
    }
    expect(pages).toEqual([["p6", "p5", "p4"], ["p3", "p2", "p1"], ["p0"]]);
    expect(
      store.messagePage({ epoch: 1, round: 0, kinds: ["price"] }, 0, 10).messages.map((m) => m.digest),
    ).toEqual(["p5", "p3", "p1"]);
    // Exactly one page's worth: no `next`.
    expect(store.messagePage({ epoch: 1, kinds: ["join"] }, 0, 1)).toMatchObject({ next: null });
    expect(store.messagePage({ epoch: 1, kinds: [] }, 0, 10)).toEqual({ messages: [], next: null });
  });

  it("filters a query by signer", () => {
    const opened = openStore(dir);
    store = opened;
    opened.putMessages([
      message("a0", "demand", 1, 0, "a"),
      message("b0", "demand", 1, 0, "b"),
      message("c0", "demand", 1, 0, "c"),
      message("b1", "demand", 1, 1, "b"),
    ]);
    const digests = (signers: string[], round?: number) =>
      opened
        .messagePage({ epoch: 1, ...(round !== undefined ? { round } : {}), signers }, 0, 10)
        .messages.map((m) => m.digest)
        .sort();
    expect(digests(["b", "c"], 0)).toEqual(["b0", "c0"]);
    expect(digests(["b"])).toEqual(["b0", "b1"]);
    expect(digests(["nobody"])).toEqual([]);
    expect(digests([])).toEqual([]);
    expect(opened.messages({ epoch: 1, signers: ["a", "c"] }).map((m) => m.digest)).toEqual(["a0", "c0"]);
  });

  it("names the file when the disk is full, keeps what was committed, and writes again once there is room", () => {
    store = openStore(dir, { maxPageCount: 12 });
    const path = join(dir, STORE_FILE);
    store.putMessages([message("a", "demand", 1, 0, "x")]);
    const big = (digest: string): StoredMessage => ({
      ...message(digest, "demand", 1, 0, "x"),
      bytes: new Uint8Array(64 * 1024),
    });
    // In a transaction (a batch, as the message writer writes) and alone, fsynced or not.
    for (const write of [
      () => store?.putMessages([message("b", "demand", 1, 0, "x"), big("c")]),
      () => store?.putMessages([big("d")], { durable: true }),
      () => store?.putMessage(big("e")),
      () => store?.saveState("big", "x".repeat(64 * 1024)),
    ]) {
      expect(write).toThrow(`${path}: cannot write walras store (database or disk is full)`);
    }
    expect(store.allMessages().map((m) => m.digest)).toEqual(["a"]);
    // The failed batch left no transaction open: the next write that fits goes through.
    expect(store.putMessages([message("b", "demand", 1, 0, "x")])).toBe(1);
    expect(store.allMessages().map((m) => m.digest)).toEqual(["a", "b"]);
  });

  it("leaves no store file behind when a new store cannot be written (a full disk)", async () => {
    // Before, a part-written walras.sqlite stayed and could fail the next start as malformed.
    expect(await withNoRoom("store", dir)).toMatchObject({
      name: "StoreOpenError",
      message: expect.stringContaining(`${join(dir, STORE_FILE)}: cannot open walras store (`),
    });
    expect(await readdir(dir)).toEqual([]);
  });

  it("refuses a store written by a newer schema", () => {
    store = openStore(dir);
    store.close();
    const db = new DatabaseSync(join(dir, STORE_FILE));
    db.exec("PRAGMA user_version = 99");
    db.close();
    expect(() => openStore(dir)).toThrow(/schema version 99 is newer/);
  });

  it("upgrades a store of schema 1 (before the conviction record) in place, its messages kept", () => {
    store = openStore(dir);
    expect(store.putMessages([message("a", "demand", 1, 0, "x")])).toBe(1);
    store.close();
    // What a node of schema 1 left: no convictions table.
    const db = new DatabaseSync(join(dir, STORE_FILE));
    db.exec("DROP TABLE convictions; PRAGMA user_version = 1");
    db.close();
    store = openStore(dir);
    expect(store.allMessages().map((m) => m.digest)).toEqual(["a"]);
    expect(store.convictions()).toEqual([]);
    const conviction = { agent: "agent-1", first: new Uint8Array([1]), second: new Uint8Array([2]) };
    store.putConviction(conviction, 10);
    expect(store.convictions()).toMatchObject([{ agent: "agent-1" }]);
    const version = new DatabaseSync(join(dir, STORE_FILE)).prepare("PRAGMA user_version").get();
    expect(version?.user_version).toBe(STORE_SCHEMA_VERSION);
  });

  it("opens cleanly with every acknowledged write after kill -9 mid-write", async () => {
    const child = spawn(process.execPath, [join(import.meta.dirname, "fixtures", "store-writer.ts"), dir], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let acknowledged = 0;
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      const last = chunk.trim().split("\n").at(-1);
      if (last !== undefined) acknowledged = Math.max(acknowledged, Number(last));
    });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    try {
      await waitFor("the writer to commit 200 messages", () => acknowledged >= 200);
    } finally {
      child.kill("SIGKILL");
      await exited;
    }

    store = openStore(dir);
    const check = new DatabaseSync(join(dir, STORE_FILE), { readOnly: true });
    expect(check.prepare("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
    check.close();
    const count = store.messages({ epoch: 1 }).length;
    expect(count).toBeGreaterThanOrEqual(acknowledged);
    const state = store.loadState("machine") as { written: number };
    expect(state.written).toBeLessThan(count);
  });
});
