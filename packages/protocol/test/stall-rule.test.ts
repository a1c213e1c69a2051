import { describe, expect, it } from "vitest";
import { lg } from "../src/economics/binary-log.ts";
import {
  initialProgress,
  judgeProgress,
  NEWTON_ROUND_BUDGET,
  type ProgressTrack,
  roundBudget,
  STALL_WINDOW,
  type StallReason,
  stallWindow,
} from "../src/economics/stall-rule.ts";
import { type Contract, contractSchema } from "../src/wire/contract.ts";

function contract(rule: "newton" | "gradient", maxRounds = 10_000): Contract {
  return contractSchema.parse({
    name: "stall",
    resources: [{ id: "r", capacity: 1 }],
    fees: { perUnit: 0, fixed: 0 },
    priceRule: { kind: rule },
    maxRounds,
  });
}

/** Feeds residuals round by round; the round at which the rule first stalls, and why. */
function firstStall(
  c: Contract,
  residual: (round: number) => number,
  rounds: number,
  atCeiling = false,
): { round: number; reason: StallReason } | null {
  let track: ProgressTrack = initialProgress;
  for (let k = 0; k < rounds; k++) {
    const j = judgeProgress(c, track, k, residual(k), atCeiling);
    if (j.stall) return { round: k, reason: j.stall };
    track = j.track;
  }
  return null;
}

const newton = contract("newton");
const gradient = contract("gradient");

describe("the stall rule", () => {
  it("budgets: newton min(maxRounds, 200), gradient maxRounds; windows 40 and budget/20 in [40, 1000]", () => {
    expect(roundBudget(newton)).toBe(NEWTON_ROUND_BUDGET);
    expect(roundBudget(contract("newton", 50))).toBe(50);
    expect(roundBudget(gradient)).toBe(10_000);
    expect(stallWindow(newton)).toBe(STALL_WINDOW);
    expect(stallWindow(gradient)).toBe(500);
    expect(STALL_WINDOW).toBe(40);
    expect(stallWindow(contract("gradient", 100))).toBe(STALL_WINDOW);
    expect(stallWindow(contract("gradient", 10_000_000))).toBe(1000);
  });

  it.each([
    // [what, contract, residual at round k, rounds fed, first stall]
    ["newton converging quadratically: never", newton, (k: number) => 10 ** (1 - 2 ** k), 8, null],
    ["newton converging by 1/3 a round: never", newton, (k: number) => 3 ** -k, 13, null],
    ["a plateau (no exact clearing price): one window after the last gain", newton, () => 0.01, 100, 40],
    [
      "a crawl (residual x 0.999 a round) that would need 12,000 more rounds: one window in",
      newton,
      (k: number) => 0.999 ** k,
      100,
      40,
    ],
    [
      "the same crawl under the gradient rule's budget of 10,000: it stalls once the pace is judged",
      gradient,
      (k: number) => 0.999 ** k,
      2000,
      500,
    ],
    [
      "an oscillation whose best value keeps creeping (an alternating member): one window in",
      newton,
      (k: number) => (k % 2 === 0 ? 0.0035 : 0.0043) * (1 - 1e-5 * k),
      100,
      40,
    ],
    ["a converged residual with the price still settling: never", newton, () => 1e-9, 100, null],
  ] as const)("%s", (_what, c, residual, rounds, want) => {
    const got = firstStall(c, residual, rounds);
    if (want === null) expect(got).toBeNull();
    else expect(got).toEqual({ round: want, reason: "too-slow" });
  });

  it("stops at the round budget whatever the pace", () => {
    // A budget shorter than the window: the pace is never judged, the budget still ends it.
    expect(firstStall(contract("newton", 10), (k) => 0.5 ** k, 40)).toEqual({
      round: 9,
      reason: "round-budget",
    });
    // Shrinking by 1/4 a round from 1e30 would need 60 rounds: with 50 the pace rule sees it first.
    expect(firstStall(contract("newton", 50), (k) => 1e30 * 0.25 ** k, 60)).toEqual({
      round: 40,
      reason: "too-slow",
    });
  });

  it("says price-ceiling when a plateau sits at the price bound", () => {
    expect(firstStall(newton, () => 0.5, 100, true)).toEqual({ round: 40, reason: "price-ceiling" });
  });

  it("says price-ceiling at once when the rule holds a price at the bound still (no proximal term)", () => {
    let track: ProgressTrack = initialProgress;
    track = judgeProgress(newton, track, 0, 65, true, false).track;
    // Moving at the bound, or held below it: keep going.
    expect(judgeProgress(newton, track, 1, 65, true, false).stall).toBeNull();
    expect(judgeProgress(newton, track, 1, 65, false, true).stall).toBeNull();
    expect(judgeProgress(newton, track, 1, 65, true, true).stall).toBe("price-ceiling");
    // A proximal contract's demands move under held prices: the window judges it.
    const proximal = contractSchema.parse({ ...newton, proximal: 0.5 });
    expect(judgeProgress(proximal, track, 1, 65, true, true).stall).toBeNull();
  });

  it("is pure: its memory is plain JSON of at most window + 1 numbers", () => {
    let track: ProgressTrack = initialProgress;
    for (let k = 0; k < 60; k++) track = judgeProgress(newton, track, k, 1 / (k + 1), false).track;
    expect(track.best).toHaveLength(STALL_WINDOW + 1);
    expect(JSON.parse(JSON.stringify(track))).toEqual(track);
    const again = judgeProgress(newton, track, 60, 0.01, false);
    expect(judgeProgress(newton, track, 60, 0.01, false)).toEqual(again);
  });
});

describe("lg", () => {
  it.each([
    [1, 0],
    [2, 1],
    [1024, 10],
    [0.25, -2],
    [3, 1.5],
    [1e-300, -997 + (1e-300 * 2 ** 997 - 1)],
  ])("lg(%d) = %d", (x, want) => {
    expect(lg(x)).toBe(want);
  });

  it("is within 0.09 of log2 and increasing", () => {
    let previous = Number.NEGATIVE_INFINITY;
    for (let x = 1e-6; x < 1e6; x *= 1.37) {
      expect(Math.abs(lg(x) - Math.log2(x))).toBeLessThan(0.09);
      expect(lg(x)).toBeGreaterThan(previous);
      previous = lg(x);
    }
  });
});
