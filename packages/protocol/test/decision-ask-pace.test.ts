import { describe, expect, it } from "vitest";
import { paperProfiles } from "../src/economics/paper-scenario.ts";
import { type AgentMachine, createAgentMachine } from "../src/machine/agent-machine.ts";
import { FIRST_EPOCH_ASKS, SPELL_SIGNERS_KEPT } from "../src/machine/decision-ask-pace.ts";
import {
  asks,
  contract,
  gossip,
  grown,
  key,
  propose,
  realChain,
  run,
  strangerPlan,
  strangersMessage,
} from "./decision-asks.ts";
import { HAND_BUILT_ROUND_MS } from "./decision-messages.ts";

/**
 * docs/protocol.md §9.3: a node that knows no epoch asks briskly for the current decision once it
 * hears a message of an epoch, but only for a round timeout. A joiner that heard a stranger's
 * message (or whose deciders were out of reach) asked 4 times per announceMs for as long as that
 * lasted; only the responders' quotas bounded it.
 */

const ROUND_MS = HAND_BUILT_ROUND_MS;
const { announceMs } = contract.timeouts;

const newJoiner = (): AgentMachine =>
  createAgentMachine({ contract, signer: key(9), profile: paperProfiles(1, 3)[0], founder: false, now: 0 });

describe("a joiner's asks for the current decision (docs/protocol.md §9.3)", () => {
  it("a stranger's message makes it ask briskly for a round timeout, then back off", () => {
    const joiner = newJoiner();
    gossip(joiner, strangersMessage);
    const brisk = run(joiner, ROUND_MS, () => []);
    expect(asks(brisk)).toBeGreaterThanOrEqual((FIRST_EPOCH_ASKS * ROUND_MS) / announceMs);
    run(joiner, 40 * ROUND_MS, () => []);
    // Over 20 round timeouts: no faster than one ask per half round timeout (joinerAnnounceMs),
    // not FIRST_EPOCH_ASKS per announceMs (400 here).
    const tail = run(joiner, 60 * ROUND_MS, () => []);
    expect(asks(tail)).toBeLessThanOrEqual((20 * ROUND_MS) / (ROUND_MS / 2));
    expect(asks(tail)).toBeGreaterThan(0);
    expect(joiner.status().epoch).toBe(null);
  });

  it("the same epoch's messages again from signers heard do not make it brisk again; another epoch's do", () => {
    const joiner = newJoiner();
    gossip(joiner, strangersMessage);
    run(joiner, 10 * ROUND_MS, () => []);
    // The stranger's epoch again, from another throwaway key, every round timeout: only its first
    // is news (a signer of epoch 3 not heard before).
    const another = key(31);
    const own = { ...strangerPlan, members: [another.id], deciders: [another.id], voters: [another.id] };
    const again = propose(3, own, another);
    gossip(joiner, again);
    run(joiner, 12 * ROUND_MS, () => [], undefined, 10 * ROUND_MS);
    let same = 0;
    for (let r = 12; r < 30; r++) {
      gossip(joiner, again);
      same += asks(run(joiner, (r + 1) * ROUND_MS, () => [], undefined, r * ROUND_MS));
    }
    expect(same).toBeLessThanOrEqual((18 * ROUND_MS) / (ROUND_MS / 2));
    const other = propose(4, { ...own, base: { epoch: 3, round: 0, prices: [0.125] } }, another);
    gossip(joiner, other);
    // Briskly for most of a round timeout (it began at the machine's last event, before this run),
    // where backed off it asks at most twice.
    const brisk = run(joiner, 31 * ROUND_MS, () => [], undefined, 30 * ROUND_MS);
    expect(asks(brisk)).toBeGreaterThanOrEqual((FIRST_EPOCH_ASKS * ROUND_MS) / announceMs / 2);
  });

  it("backed off after a stranger's message, it still takes the real network's epoch promptly once it hears of it", () => {
    const joiner = newJoiner();
    gossip(joiner, strangersMessage);
    run(joiner, 20 * ROUND_MS, () => []);
    const heardAt = 20 * ROUND_MS + 1;
    gossip(joiner, realChain[0] as (typeof realChain)[number]);
    // Asks at once; the peer asked holds epoch 1 (the real founder's proposal decides it alone).
    run(joiner, heardAt + announceMs / FIRST_EPOCH_ASKS, () => realChain.slice(1), undefined, heardAt);
    expect(joiner.status()).toMatchObject({ epoch: 1, members: grown.members });
  });

  it("after its brisk spell, the real network's message of the stranger's epoch makes it brisk again", () => {
    const joiner = newJoiner();
    gossip(joiner, strangersMessage);
    run(joiner, 10 * ROUND_MS, () => []);
    // Epoch 3 signed by an agent not heard in it: the stranger's number, the real network's key.
    const real = key(1);
    gossip(
      joiner,
      propose(3, { ...strangerPlan, members: [real.id], deciders: [real.id], voters: [real.id] }, real),
    );
    const brisk = run(joiner, 11 * ROUND_MS, () => [], undefined, 10 * ROUND_MS);
    // Backed off it would ask about twice (joinerAnnounceMs is half a round timeout here).
    expect(asks(brisk)).toBeGreaterThanOrEqual((FIRST_EPOCH_ASKS * ROUND_MS) / announceMs / 2);
  });

  it("a stream of throwaway keys and made-up epochs keeps it brisk at most half the time", () => {
    const throwaway = (i: number) => {
      const k = key(40 + i);
      const plan = { ...strangerPlan, members: [k.id], deciders: [k.id], voters: [k.id] };
      // Fresh keys for epoch 3 first, then fresh keys and another epoch every round timeout.
      const epoch = i < 2 * SPELL_SIGNERS_KEPT ? 3 : 3 + i;
      return propose(epoch, { ...plan, base: { epoch: epoch - 1, round: 0, prices: [0.125] } }, k);
    };
    const joiner = newJoiner();
    let total = 0;
    const rounds = 40;
    for (let r = 0; r < rounds; r++) {
      gossip(joiner, throwaway(r));
      total += asks(run(joiner, (r + 1) * ROUND_MS, () => [], undefined, r * ROUND_MS));
    }
    const alwaysBrisk = (rounds * ROUND_MS * FIRST_EPOCH_ASKS) / announceMs;
    expect(total).toBeLessThanOrEqual(0.6 * alwaysBrisk);
  });
});
