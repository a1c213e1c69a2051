import type { Certificate, MachineAction } from "@walras/protocol";
import { describe, expect, it } from "vitest";
import { createMarketHistory, type HistoryEvent } from "../src/history/market-history.ts";

const closed = (epoch: number, round: number, price: number): MachineAction => ({
  type: "round-closed",
  epoch,
  round,
  prices: [price],
  nextPrices: [price + 1],
  residual: 1 / (round + 1),
  converged: false,
});

const started = (epoch: number, members: string[]): MachineAction => ({
  type: "epoch-started",
  epoch,
  members: members as never,
  base: null,
  plan: {
    members: members as never,
    deciders: members as never,
    voters: members as never,
    base: null,
    terms: null,
    ledger: null,
    cause: ["found"],
  },
  member: true,
});

const certificate = (epoch: number, signers: number): MachineAction => ({
  type: "certificate",
  complete: false,
  certificate: {
    commit: { epoch },
    signatures: Array.from({ length: signers }, (_, i) => ({ agent: `a${i}`, sig: "" })),
  } as unknown as Certificate,
});

describe("market history", () => {
  it("numbers closed rounds across epochs and marks where each epoch starts", () => {
    const h = createMarketHistory();
    for (const a of [
      started(0, ["a", "b"]),
      closed(0, 0, 1),
      closed(0, 1, 2),
      started(1, ["a"]),
      closed(1, 0, 3),
    ])
      h.record(a);
    expect(h.rounds().map((r) => [r.seq, r.epoch, r.round, r.prices[0]])).toEqual([
      [0, 0, 0, 1],
      [1, 0, 1, 2],
      [2, 1, 0, 3],
    ]);
    // The path shows the prices a round's demands answered (p^k), not the next ones.
    expect(h.rounds()[1]?.residual).toBe(1 / 2);
    expect(h.epochs()).toEqual([
      { epoch: 0, members: ["a", "b"], fromSeq: 0 },
      { epoch: 1, members: ["a"], fromSeq: 2 },
    ]);
  });

  it("keeps only the newest rounds, epochs and certificates within its limits", () => {
    const h = createMarketHistory({ rounds: 3, epochs: 2, certificates: 2 });
    for (let e = 0; e < 4; e++) {
      h.record(started(e, ["a"]));
      for (let k = 0; k < 5; k++) h.record(closed(e, k, k));
      h.record(certificate(e, 1));
    }
    expect(h.rounds().map((r) => r.seq)).toEqual([17, 18, 19]);
    expect(h.epochs().map((e) => e.epoch)).toEqual([2, 3]);
    expect(h.certificates().map((c) => c.commit.epoch)).toEqual([2, 3]);
  });

  it("keeps one certificate per epoch, the latest (with more signatures)", () => {
    const h = createMarketHistory();
    h.record(certificate(0, 2));
    h.record(certificate(1, 2));
    h.record(certificate(0, 3));
    expect(h.certificates().map((c) => [c.commit.epoch, c.signatures.length])).toEqual([
      [0, 3],
      [1, 2],
    ]);
  });

  it("tells subscribers each change, and stops when they unsubscribe; other actions are not history", () => {
    const h = createMarketHistory();
    const seen: HistoryEvent["type"][] = [];
    const off = h.subscribe((e) => seen.push(e.type));
    h.record(started(0, ["a"]));
    h.record(closed(0, 0, 1));
    h.record({ type: "log", level: "info", msg: "hello" });
    h.record(certificate(0, 1));
    off();
    h.record(closed(0, 1, 1));
    expect(seen).toEqual(["epoch", "round", "certificate"]);
    expect(h.rounds()).toHaveLength(2);
  });
});
