import { describe, expect, it } from "vitest";
import { DivergenceProbe, PROBE_ROUNDS_PER_STEP } from "../src/machine/divergence-probe.ts";
import type { MachineContext } from "../src/machine/machine-context.ts";
import { asAgentId } from "../src/wire/ids.ts";

/** The probe on its own (pure logic): a context that records the sync requests it sends. */
function probe(): { probe: DivergenceProbe; asked: number[]; ctx: { now: number } } {
  const asked: number[] = [];
  const ctx = {
    now: 0,
    me: asAgentId("me"),
    contract: { timeouts: { roundMs: 2000 } },
    timers: { set() {}, clear() {}, due: () => true },
    out: { replaying: false, log() {}, sync: (r: { round: number }) => asked.push(r.round) },
  };
  return { probe: new DivergenceProbe(ctx as unknown as MachineContext), asked, ctx };
}

const members = [asAgentId("a"), asAgentId("b")];

describe("DivergenceProbe", () => {
  it("a commit naming a round far beyond the node's own walks only the rounds the node holds", () => {
    const { probe: p, asked } = probe();
    p.ask(1, Number.MAX_SAFE_INTEGER, 5, members, members[0] as never);
    expect(asked).toEqual([5, 4]);
    expect(p.queued()).toBe(4);
  });

  it("keeps a long walk as a range: 2^53 − 1 rounds queued neither throw nor allocate them", () => {
    const { probe: p, asked } = probe();
    p.ask(1, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, members, members[0] as never);
    expect(asked).toEqual([Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER - 1]);
    expect(p.queued()).toBe(Number.MAX_SAFE_INTEGER + 1 - PROBE_ROUNDS_PER_STEP);
  });

  it("asks later rounds first, then the rest of the walk, each once", () => {
    const { probe: p, asked, ctx } = probe();
    p.ask(1, 3, 10, members, members[0] as never);
    p.ask(1, 6, 10, members, members[1] as never);
    // A step per half round timeout.
    for (let step = 0; step < 10 && p.queued() > 0; step++) {
      ctx.now += 1000;
      p.onTick();
    }
    expect(asked).toEqual([3, 2, 6, 5, 4, 1, 0]);
  });
});
