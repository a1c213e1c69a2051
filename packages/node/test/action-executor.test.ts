import type { MachineAction, MessageKind, WireMessage } from "@walras/protocol";
import { describe, expect, it } from "vitest";
import { createActionExecutor } from "../src/actions/action-executor.ts";
import type { LedgerBook } from "../src/ledger/ledger-book.ts";
import { createLogger } from "../src/logging/logger.ts";
import { createNodeMetrics } from "../src/metrics/node-metrics.ts";
import type { MessageWriter } from "../src/store/message-writer.ts";

/** What the executor did, in order: stores (with whether they were fsynced) and publishes. */
function recordingExecutor() {
  const events: string[] = [];
  const writer: MessageWriter = {
    received: () => events.push("received"),
    own: (m, durable) => void events.push(`own ${m.kind}${durable ? " fsync" : ""}`),
    flush: () => {},
    pending: 0,
  };
  let left = 0;
  const executor = createActionExecutor({
    writer,
    // Publishing touches no ledger; an action that did would throw here.
    ledger: {} as LedgerBook,
    metrics: createNodeMetrics(),
    log: createLogger({ level: "silent" }),
    listeners: new Set(),
    publish: async (m) => void events.push(`publish ${m.kind}`),
    catchUp: () => {},
    catchUpLedger: () => {},
    left: () => void left++,
    now: () => 0,
  });
  return { executor, events, left: () => left };
}

const message = (kind: MessageKind, i: number) =>
  ({ kind, epoch: 1, round: 0, agent: `agent-${i}`, sig: "x" }) as unknown as WireMessage;

describe("action executor", () => {
  it("fsyncs the Paxos messages it signs (proposals, accepts, views) before publishing them, and batches the rest", async () => {
    const kinds: MessageKind[] = ["demand", "commit", "join", "alive", "leave", "propose", "accept", "view"];
    const { executor, events } = recordingExecutor();
    await executor.perform(
      kinds.map((kind, i): MachineAction => ({ type: "publish", message: message(kind, i) })),
    );
    expect(events).toEqual([
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
    ]);
  });

  it("tells the node when a graceful leave is done", async () => {
    const { executor, left } = recordingExecutor();
    await executor.perform([{ type: "left", epoch: 3 }]);
    expect(left()).toBe(1);
  });
});
