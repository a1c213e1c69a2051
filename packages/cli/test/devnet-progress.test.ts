import type { CertificateSummary, NodeStatus } from "@walras/node";
import { describe, expect, it } from "vitest";
import { ProgressLog } from "../src/commands/devnet/progress.ts";

/** The only status fields the progress log reads; the rest do not matter here. */
function status(epoch: number, certificate: CertificateSummary | null): NodeStatus {
  return { epoch, members: ["a", "b", "c"], pendingJoins: [], certificate } as unknown as NodeStatus;
}

function summary(epoch: number, round: number, price: number, signers: number): CertificateSummary {
  return {
    digest: `d${epoch}`,
    epoch,
    round,
    members: ["a", "b", "c"],
    signers,
    prices: { capacity: price },
    allocations: {},
    residual: 0,
    heldSince: null,
  };
}

const plan = (epoch: number, cause: string) => ({
  msg: "epoch plan adopted",
  epoch,
  cause: [cause],
  members: 3,
});
const certificateLine = (epoch: number, round: number, price: number, signers: number) => ({
  msg: "certificate",
  epoch,
  round,
  prices: [price],
  members: 3,
  signers,
  complete: signers === 3,
});

describe("devnet progress", () => {
  it("shows a slot certified in its node's log even when the next slot certified before the next poll", () => {
    const progress = new ProgressLog(3, ["capacity"]);
    const lines = [
      progress.logEntry(plan(0, "found")),
      progress.logEntry(certificateLine(0, 5, 1.81381, 2)),
      progress.logEntry(certificateLine(0, 5, 1.81381, 3)),
      progress.logEntry(plan(1, "promote")),
      progress.logEntry(certificateLine(1, 0, 1.81381, 2)),
      // The poll sees only the latest certificate.
      progress.poll([status(1, summary(1, 0, 1.81381, 3))]),
    ].filter((l) => l !== null);
    expect(lines).toEqual([
      "epoch 0 started with 3 members (found)",
      "epoch 0 certified (found) in 6 rounds: price capacity 1.81381; 2/3 members signed",
      "epoch 1 started with 3 members (promote)",
      "epoch 1 certified (promote) in 1 round: price capacity 1.81381; 2/3 members signed",
    ]);
    expect(progress.slots().map((s) => [s.epoch, s.cause, s.round, s.prices.capacity, s.members])).toEqual([
      [0, ["found"], 5, 1.81381, 3],
      [1, ["promote"], 0, 1.81381, 3],
    ]);
  });

  it("falls back on the status poll, and keeps slots in epoch order whichever source shows one first", () => {
    const progress = new ProgressLog(3, ["capacity"]);
    progress.logEntry(plan(0, "found"));
    progress.logEntry(plan(1, "rebid"));
    expect(progress.poll([status(1, summary(1, 3, 3.5, 3))])).toBe(
      "epoch 1 certified (rebid) in 4 rounds: price capacity 3.5; 3/3 members signed",
    );
    expect(progress.logEntry(certificateLine(0, 4, 1.8, 2))).toBe(
      "epoch 0 certified (found) in 5 rounds: price capacity 1.8; 2/3 members signed",
    );
    expect(progress.poll([status(1, summary(1, 3, 3.5, 3))])).toBeNull();
    expect(progress.slots().map((s) => s.epoch)).toEqual([0, 1]);
  });

  it("ignores a certificate line that lacks its fields", () => {
    const progress = new ProgressLog(3, ["capacity"]);
    expect(progress.logEntry({ msg: "certificate", epoch: 0, signers: 2 })).toBeNull();
    expect(progress.slots()).toEqual([]);
  });
});
