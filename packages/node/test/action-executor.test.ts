import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type {
  Certificate,
  EquivocationProof,
  MachineAction,
  MessageKind,
  WireMessage,
} from "@walras/protocol";
import { describe, expect, it } from "vitest";
import { storedMessage } from "../src/actions/action-executor.ts";
import type { LedgerBook } from "../src/ledger/ledger-book.ts";
import { createNodeMetrics } from "../src/metrics/node-metrics.ts";
import { createMessageWriter } from "../src/store/message-writer.ts";
import { openStore, type Store } from "../src/store/store.ts";
import { idleWriter } from "./idle-writer.ts";
import { captureLog } from "./log-capture.ts";
import { stubbedExecutor } from "./stubbed-executor.ts";

/** What the executor did, in order: stores (with whether they were fsynced) and publishes. */
function recordingExecutor() {
  const events: string[] = [];
  const writer = idleWriter({
    received: () => void events.push("received"),
    own: (m, durable) => void events.push(`own ${m.kind}${durable ? " fsync" : ""}`),
  });
  let left = 0;
  // Publishing touches no ledger; an action that did would throw (stubbedExecutor has none).
  const executor = stubbedExecutor({
    writer,
    publish: async (m) => void events.push(`publish ${m.kind}`),
    left: () => void left++,
  });
  return { executor, events, left: () => left };
}

const message = (kind: MessageKind, i: number, round = 0) =>
  ({ kind, epoch: 1, round, agent: `agent-${i}`, sig: "x" }) as unknown as WireMessage;

describe("action executor", () => {
  it("fsyncs what a restart could not sign again the same (Paxos messages, amendments, approvals, an epoch's first demand) before publishing it, and batches the rest", async () => {
    const kinds: MessageKind[] = [
      "commit",
      "join",
      "alive",
      "leave",
      "propose",
      "accept",
      "view",
      "amend",
      "approve",
    ];
    const { executor, events } = recordingExecutor();
    await executor.perform([
      { type: "publish", message: message("demand", 0, 0) },
      { type: "publish", message: message("demand", 0, 1) },
      ...kinds.map((kind, i): MachineAction => ({ type: "publish", message: message(kind, i, 1) })),
    ]);
    expect(events).toEqual([
      "own demand fsync",
      "publish demand",
      "own demand",
      "publish demand",
      "own commit",
      "publish commit",
      "own join",
      "publish join",
      "own alive",
      "publish alive",
      "own leave",
      "publish leave",
      "own propose fsync",
      "publish propose",
      "own accept fsync",
      "publish accept",
      "own view fsync",
      "publish view",
      "own amend fsync",
      "publish amend",
      "own approve fsync",
      "publish approve",
    ]);
  });

  it("tells the node when a graceful leave is done", async () => {
    const { executor, left } = recordingExecutor();
    await executor.perform([{ type: "left", epoch: 3 }]);
    expect(left()).toBe(1);
  });

  it("keeps the proof of each conviction (the node's conviction record, restored before a restart's replay)", async () => {
    const kept: unknown[] = [];
    const proof = {
      first: message("demand", 0, 2),
      second: message("demand", 0, 2),
    } as unknown as EquivocationProof;
    await stubbedExecutor({ keepConviction: (p) => void kept.push(p) }).perform([
      { type: "convicted", proof },
    ]);
    expect(kept).toEqual([proof]);
  });
});

describe("action executor: time to agreement", () => {
  it("times an epoch once, at its first certificate, though the certificate grows by a signature at a time; remembers when each epoch was first certified", async () => {
    let now = 0;
    const metrics = createNodeMetrics();
    const executor = stubbedExecutor({
      ledger: { addCertificate: () => "digest", holdsChainTo: () => true } as unknown as LedgerBook,
      metrics,
      now: () => now,
    });
    const certificate = (epoch: number, signers: number) =>
      ({
        type: "certificate",
        complete: signers === 3,
        certificate: {
          commit: { epoch, round: 4, prices: [1], members: ["a", "b", "c"] },
          signatures: Array.from({ length: signers }, (_, i) => ({ agent: `agent-${i}`, sig: "x" })),
        },
      }) as unknown as MachineAction;
    now = 1_000;
    await executor.perform([
      {
        type: "epoch-started",
        epoch: 5,
        members: ["a", "b", "c"],
        base: null,
        plan: { cause: ["rebid"] },
        member: true,
      } as unknown as MachineAction,
    ]);
    now = 3_500;
    await executor.perform([certificate(5, 2)]);
    now = 9_000;
    // The last signature of epoch 5, and a late one completing epoch 4's certificate.
    await executor.perform([certificate(5, 3), certificate(4, 3)]);
    const values = (await metrics.timeToAgreementSeconds.get()).values;
    const value = (name: string) => values.find((v) => v.metricName === name)?.value;
    expect(value("walras_time_to_agreement_seconds_count")).toBe(1);
    expect(value("walras_time_to_agreement_seconds_sum")).toBe(2.5);
    // When it first held each epoch's certificate (its status's heldSince), growth aside: both
    // epochs listed for /status, in the order first held, each with its body's digest. Epoch
    // 5 ran here from 1,000; epoch 4's certificate it assembled after leaving that epoch.
    expect(executor.certified().map(({ digest: _, ...rest }) => rest)).toEqual([
      { epoch: 5, round: 4, members: 3, startedAt: 1_000, heldSince: 3_500 },
      { epoch: 4, round: 4, members: 3, startedAt: null, heldSince: 9_000 },
    ]);
    // sha256 of the body's canonical JSON (docs/protocol.md §1), written out here.
    const body = (epoch: number) => `{"epoch":${epoch},"members":["a","b","c"],"prices":[1],"round":4}`;
    expect(executor.certified().map((c) => c.digest)).toEqual([
      createHash("sha256").update(body(5)).digest("hex"),
      createHash("sha256").update(body(4)).digest("hex"),
    ]);
  });
});

describe("action executor: a certificate ledger catch-up brought", () => {
  it("is held as one the machine assembled: listed once, with no start when the node did not run that epoch", async () => {
    let now = 0;
    const executor = stubbedExecutor({
      ledger: { addCertificate: () => "digest", holdsChainTo: () => true } as unknown as LedgerBook,
      now: () => now,
    });
    const certificate = (epoch: number) =>
      ({
        commit: { epoch, round: 2, prices: [1], members: ["a", "b"] },
        signatures: [],
      }) as unknown as Certificate;
    now = 2_000;
    // Epoch 0's rounds left behind for the promotion epoch 1; its certificate came by ledger sync.
    executor.caughtUp(certificate(0));
    now = 2_500;
    // The machine assembles it after all (a late commit): already held, not listed again.
    await executor.perform([
      { type: "certificate", complete: true, certificate: certificate(0) } as MachineAction,
    ]);
    expect(executor.certified().map(({ digest: _, ...rest }) => rest)).toEqual([
      { epoch: 0, round: 2, members: 2, startedAt: null, heldSince: 2_000 },
    ]);
  });
});

describe("action executor: a full disk", () => {
  it("holds own messages the store refuses, runs the actions after them, and stores then publishes them in order once there is room", async () => {
    const dir = await mkdtemp(join(tmpdir(), "walras-executor-full-"));
    const store = openStore(dir, { maxPageCount: 24 });
    try {
      const { logger: log, lines } = captureLog("info");
      const published: string[] = [];
      let left = 0;
      let clock = 0;
      let attempts = 0;
      const counted: Store = {
        ...store,
        putMessages: (messages, options) => {
          attempts++;
          return store.putMessages(messages, options);
        },
      };
      // The batch's own timer waits longer than the test runs: only events try the store here.
      const writer = createMessageWriter(counted, { flushDelayMs: 60_000, now: () => clock });
      const executor = stubbedExecutor({
        writer,
        log,
        publish: async (m, bytes) => {
          // Write-ahead: never out before it is in the store.
          expect(store.allMessages().some((row) => Buffer.from(row.bytes).equals(Buffer.from(bytes)))).toBe(
            true,
          );
          published.push(m.agent);
        },
        left: () => void left++,
        now: () => clock,
      });
      // Larger than a page, so each needs pages the capped file does not have.
      const big = (i: number) =>
        ({ ...message("demand", i), sig: "x".repeat(6000) }) as unknown as WireMessage;
      // Fill the file to its cap.
      let pad = 0;
      for (;;) {
        try {
          store.saveState("pad", "p".repeat((pad + 1) * 4096));
          pad++;
        } catch {
          break;
        }
      }
      await executor.perform([
        { type: "publish", message: big(1) },
        { type: "left", epoch: 1 },
        { type: "publish", message: big(2) },
      ]);
      expect(published).toEqual([]);
      expect(left).toBe(1);
      await executor.perform([{ type: "publish", message: big(3) }]);
      expect(published).toEqual([]);
      // One line for the three refusals, naming the file.
      const failures = lines.filter((l) => /store write failed/.test(l.msg));
      expect(failures).toHaveLength(1);
      expect(failures[0]?.err).toBe(`${store.path}: cannot write walras store (database or disk is full)`);

      // Gossip keeps coming while the writer backs off: each message is an event that retries the
      // held ones, and none of those tries the store (a transaction of the whole pending batch).
      const tried = attempts;
      for (let i = 0; i < 100; i++) {
        writer.received(storedMessage(message("demand", 100 + i), new Uint8Array(30), clock));
        await executor.perform([]);
      }
      expect(attempts).toBe(tried);

      store.saveState("pad", "");
      // The next event after the back-off stores them.
      clock += 60_000;
      await executor.perform([]);
      expect(published).toEqual(["agent-1", "agent-2", "agent-3"]);
      expect(store.allMessages().map((m) => m.signer)).toEqual([
        ...Array.from({ length: 100 }, (_, i) => `agent-${100 + i}`),
        "agent-1",
        "agent-2",
        "agent-3",
      ]);
      // Nothing held: the next message goes straight out.
      await executor.perform([{ type: "publish", message: message("demand", 4) }]);
      expect(published.at(-1)).toBe("agent-4");
      writer.stop();
    } finally {
      store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
