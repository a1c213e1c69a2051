import { describe, expect, it } from "vitest";
import { runSeed } from "../src/sim/runner.ts";
import { createSigner } from "../src/wire/agent-key.ts";
import type { ContractId } from "../src/wire/ids.ts";
import { decodeMessage, encodeMessage } from "../src/wire/message-codec.ts";
import { type LeaveMessage, MAX_LEAVE_SEQ, slotOf, type Unsigned } from "../src/wire/messages.ts";
import { signMessage } from "../src/wire/signing.ts";

/**
 * A leaver's leave is decided although a `leave` of it is lost (docs/protocol.md §9.4): it re-sends
 * its leave while it stays and announces it anew in each later epoch that still names it. Each
 * seed below was a leave cut short with the leaver hearing the others all its stay
 * (sim/liveness.ts), no live majority left.
 */
describe("a leave whose first `leave` is lost is still decided", () => {
  const held = (seed: number) => {
    const r = runSeed(seed);
    expect(r.violation, `seed ${seed}`).toBeNull();
    expect(r.liveness.status, `seed ${seed}`).toBe("held");
  };

  it("re-sent while the leaver stays (seed 1881: its first leave lost to the others, one of its re-sends is decided)", () => {
    held(1881);
  });

  // Seed 653 showed a leave lost to the only voter, the leaver kept in two more epochs, until a
  // joiner took its bootstrap node's own decision by gossip (protocol §9.3) and moved its schedule;
  // leave-resend.test.ts builds that shape by hand.
});

describe("a leaver announces its leave anew in each epoch that still names it (§9.4)", () => {
  // Seed 2238 (498 until the first demand catch-up lost its quarter-timeout floor, protocol §6):
  // n6 leaves while it is still in epoch 1 and others have started epoch 3 already, so its leave of
  // epoch 1 is stale to them (a few still in epoch 1 take it); catching up, it adopts epochs 2 and
  // 3, which still name it, and announces its leave of each at once; epoch 4 is decided without it.
  // Every joiner bootstrapping from the founder, as when it was pinned (with the joiners'
  // bootstrap nodes drawn, n6 is no longer behind: its first leave is of epoch 3).
  it("seed 2238: a leaver behind the others leaves epoch 1, then 2 and 3 as it adopts them", () => {
    const r = runSeed(2238, { trace: true, bootstrapDraw: false });
    const lines = r.trace ?? [];
    const announced = lines.flatMap((l) => /publish leave n6 e(\d+)$/.exec(l)?.[1] ?? []);
    expect(announced).toEqual(["1", "2", "3"]);
    // Behind: when it first leaves, another node has started epoch 3 already.
    const firstLeave = lines.findIndex((l) => /publish leave n6 e1$/.test(l));
    expect(lines.slice(0, firstLeave).some((l) => /n\d+ epoch-started e3 /.test(l))).toBe(true);
    expect(
      lines.some((l) => /publish propose n\d+ e4 v\d+ \{(?!.*\bn6\b).*\} base e3r0 \[.*leave/.test(l)),
    ).toBe(true);
    expect(r.violation).toBeNull();
    expect(r.liveness.status).toBe("held");
  });
});

describe("the leave message's seq (§9.2)", () => {
  const signer = createSigner(new Uint8Array(32).fill(9));
  const leave = (seq?: number): LeaveMessage =>
    signMessage<LeaveMessage>(
      {
        v: 2,
        kind: "leave",
        contract: "c".repeat(64) as ContractId,
        agent: signer.id,
        epoch: 3,
        ...(seq !== undefined ? { seq } : {}),
      } as Unsigned<LeaveMessage>,
      signer,
    );

  it("gives each re-send a slot of its own: a repeat, not an equivocation", () => {
    const slots = [undefined, 1, 2, MAX_LEAVE_SEQ].map((seq) => slotOf(leave(seq)));
    expect(new Set(slots).size).toBe(4);
    expect(decodeMessage(encodeMessage(leave(2)))).toEqual({ ok: true, message: leave(2) });
    // The first is today's leave, bytes unchanged: no seq field.
    expect("seq" in leave()).toBe(false);
  });

  it("rejects a seq outside 1…MAX_LEAVE_SEQ", () => {
    for (const seq of [0, MAX_LEAVE_SEQ + 1, 1.5])
      expect(decodeMessage(encodeMessage(leave(seq))), `seq ${seq}`).toMatchObject({
        ok: false,
        reason: "schema",
      });
  });
});
