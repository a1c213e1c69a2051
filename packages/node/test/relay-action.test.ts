import type { WireMessage } from "@walras/protocol";
import { describe, expect, it } from "vitest";
import { idleWriter } from "./idle-writer.ts";
import { stubbedExecutor } from "./stubbed-executor.ts";

describe("action executor: relay (docs/protocol.md §5.1)", () => {
  it("gossips another agent's message as is and does not store it", async () => {
    const events: string[] = [];
    const executor = stubbedExecutor({
      writer: idleWriter({
        received: () => void events.push("received"),
        own: (m) => void events.push(`own ${m.kind}`),
      }),
      publish: async (m, bytes) => void events.push(`publish ${m.kind} ${bytes.length > 0}`),
    });
    const twin = { kind: "demand", epoch: 1, round: 0, agent: "liar", sig: "x" } as unknown as WireMessage;
    await executor.perform([{ type: "relay", message: twin }]);
    expect(events).toEqual(["publish demand true"]);
  });
});
