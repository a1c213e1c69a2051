import type { WireMessage } from "@walras/protocol";
import { describe, expect, it } from "vitest";
import { askedFor } from "../src/inbound/sync-asked.ts";

/** Only the fields askedFor reads: a sync answer's message is judged against its request. */
const message = (kind: string, epoch: number, round?: number) =>
  ({ kind, epoch, ...(round !== undefined ? { round } : {}) }) as unknown as WireMessage;

describe("what a sync request asked for", () => {
  it("a messages request: its kinds, its epoch and, when it names one, its round", () => {
    const asked = { kinds: ["demand" as const], epochs: { from: 2, to: 2 }, round: 4 };
    expect(askedFor(message("demand", 2, 4), asked)).toBe(true);
    expect(askedFor(message("demand", 2, 3), asked)).toBe(false);
    expect(askedFor(message("demand", 0, 4), asked)).toBe(false);
    expect(askedFor(message("commit", 2, 4), asked)).toBe(false);
    expect(askedFor(message("propose", 2), { kinds: ["propose"], epochs: { from: 2, to: 2 } })).toBe(true);
  });

  it("a decision request: the epochs from the one it names; the current decision: any epoch", () => {
    const from = { kinds: ["propose" as const, "accept" as const], epochs: { from: 5 } };
    expect(askedFor(message("accept", 70), from)).toBe(true);
    expect(askedFor(message("accept", 4), from)).toBe(false);
    expect(askedFor(message("propose", 1), { kinds: ["propose"] })).toBe(true);
  });
});
