import { describe, expect, it } from "vitest";
import { paperProfiles } from "../src/economics/paper-scenario.ts";
import { type AgentMachine, createAgentMachine } from "../src/machine/agent-machine.ts";
import type { MachineAction } from "../src/machine/machine-io.ts";
import { syncMessagesTimeoutMs } from "../src/machine/sync-timeout.ts";
import { createSigner, type Signer } from "../src/wire/agent-key.ts";
import { type Contract, contractId, contractSchema } from "../src/wire/contract.ts";
import { type AgentId, compareIds } from "../src/wire/ids.ts";
import {
  type EpochPlan,
  type JoinMessage,
  PROTOCOL_VERSION,
  type ProposeMessage,
  type Unsigned,
  type WireMessage,
} from "../src/wire/messages.ts";
import { signMessage } from "../src/wire/signing.ts";
import { signedDemand } from "./signed-demand.ts";

const ROUND_MS = 2_000;
const contract: Contract = contractSchema.parse({
  name: "catch-up",
  resources: [{ id: "capacity", capacity: 6 }],
  fees: { perUnit: 0.5, fixed: 0 },
  timeouts: { roundMs: ROUND_MS, announceMs: 200 },
});
/** What a `messages` request waits at this contract's rounds (the sync client's floor). */
const WAIT_MS = syncMessagesTimeoutMs(contract.timeouts);
const [founder, me, other] = [1, 2, 3].map((i) => createSigner(new Uint8Array(32).fill(i))) as [
  Signer,
  Signer,
  Signer,
];
const ids = (...signers: Signer[]): AgentId[] => signers.map((s) => s.id).sort(compareIds);

/** A proposal by the founder; with the founder the only decider, a decision on its own (quorum 1). */
function proposal(
  epoch: number,
  members: Signer[],
  base: EpochPlan["base"],
  deciders: Signer[] = [founder],
): ProposeMessage {
  const plan: EpochPlan = {
    members: ids(...members),
    deciders: ids(...deciders),
    voters: epoch === 2 ? ids(...members) : ids(founder),
    base,
    terms: null,
    ledger: null,
    cause: [epoch === 0 ? "found" : epoch === 1 ? "join" : "leave"],
  };
  return signMessage<ProposeMessage>(
    {
      v: PROTOCOL_VERSION,
      kind: "propose",
      contract: contractId(contract),
      agent: founder.id,
      epoch,
      view: 0,
      plan,
    } as Unsigned<ProposeMessage>,
    founder,
  );
}

function deliver(machine: AgentMachine, m: WireMessage, now: number): MachineAction[] {
  expect(machine.check(m).verdict).toBe("accept");
  return machine.handle({ type: "message", now, message: m });
}

/** Tick the machine at each of its own deadlines up to `until`. */
function runUntil(machine: AgentMachine, until: number): MachineAction[] {
  const actions: MachineAction[] = [];
  for (let now = machine.nextDeadline(); now <= until; now = machine.nextDeadline())
    actions.push(...machine.handle({ type: "tick", now }));
  return actions;
}

describe("catch-up by trust (docs/protocol.md §9.3)", () => {
  // The founder decided epoch 1 (everyone) and epoch 2 (without itself) alone and left; epoch 1's
  // proposal never reached this node, which is still in epoch 0. No peer can give it epoch 1.
  const base = (epoch: number) => ({ epoch, round: 0, prices: [0] });
  const epoch0 = proposal(0, [founder, me], null);
  const epoch2 = proposal(2, [me, other], base(1));

  it("a member that cannot get the next decision adopts a later decided epoch after two rounds, not before", () => {
    const machine = createAgentMachine({ contract, signer: me, profile: paperProfiles(1, 3)[0], now: 0 });
    deliver(machine, epoch0, 10);
    expect(machine.status().epoch).toBe(0);
    const asked = deliver(machine, epoch2, 20);
    expect(asked).toContainEqual({ type: "sync", want: { type: "decision", epoch: 1 } });
    runUntil(machine, 20 + 2 * ROUND_MS - 1);
    expect(machine.status().epoch).toBe(0);
    runUntil(machine, 20 + 2 * ROUND_MS);
    expect(machine.status()).toMatchObject({ epoch: 2, member: true, members: ids(me, other) });
  });

  it("without a later decided epoch held, waiting changes nothing", () => {
    const machine = createAgentMachine({ contract, signer: me, profile: paperProfiles(1, 3)[0], now: 0 });
    deliver(machine, epoch0, 10);
    // Two deciders, and only the proposer has spoken: not a decision.
    deliver(machine, proposal(2, [me, other], base(1), [founder, other]), 20);
    runUntil(machine, 20 + 4 * ROUND_MS);
    expect(machine.status().epoch).toBe(0);
  });

  it("a join naming a later epoch makes a node ask for the decision after its own", () => {
    // Two nodes each outside the other's newest epoch hear nothing from each other but joins
    // (sim seed 1197): the join's epoch is the only news that a later epoch exists.
    const machine = createAgentMachine({ contract, signer: me, profile: paperProfiles(1, 3)[0], now: 0 });
    deliver(machine, epoch0, 10);
    const join = (epoch: number, seq: number) =>
      signMessage<JoinMessage>(
        { v: PROTOCOL_VERSION, kind: "join", contract: contractId(contract), agent: other.id, epoch, seq },
        other,
      );
    const wantsDecision = (actions: MachineAction[]) =>
      actions.some((a) => a.type === "sync" && a.want.type === "decision");
    expect(wantsDecision(deliver(machine, join(0, 1), 20))).toBe(false);
    expect(deliver(machine, join(3, 2), 30)).toContainEqual({
      type: "sync",
      want: { type: "decision", epoch: 1 },
    });
  });

  it("a joiner outside its epoch asks for the next decision each time it announces", () => {
    // Proposers admit only joins that name their epoch, and the epochs this joiner missed were
    // decided by agents it never heard of, whose messages it ignores (sim seed 15865): it asks.
    const machine = createAgentMachine({ contract, signer: other, profile: paperProfiles(1, 3)[0], now: 0 });
    deliver(machine, epoch0, 10);
    expect(machine.status()).toMatchObject({ epoch: 0, member: false });
    const actions = runUntil(machine, 10 * contract.timeouts.announceMs);
    const joins = actions.filter((a) => a.type === "publish" && a.message.kind === "join").length;
    const asks = actions.filter(
      (a) => a.type === "sync" && a.want.type === "decision" && a.want.epoch === 1,
    ).length;
    expect(joins).toBeGreaterThanOrEqual(2);
    expect(asks).toBe(joins);
  });
});

describe("demand catch-up (docs/protocol.md §6)", () => {
  const demandBy = (signer: Signer, round: number, prices: readonly number[], x = 5) =>
    signedDemand(contractId(contract), signer, 0, round, prices, x);

  it("asks an eighth of the timeout into a quiet round for the open round's missing demands, from their members, and nothing else", () => {
    const machine = createAgentMachine({ contract, signer: me, profile: paperProfiles(1, 3)[0], now: 0 });
    deliver(machine, proposal(0, [founder, me], null), 10);
    deliver(machine, demandBy(founder, 0, machine.status().prices), 20);
    expect(machine.status()).toMatchObject({ epoch: 0, round: 1, status: "running" });
    // Not before: no demand of round 1 has come in since it opened, so that is when it is quiet.
    expect(runUntil(machine, 20 + ROUND_MS / 8 - 1).filter((a) => a.type === "sync")).toEqual([]);
    const asked = runUntil(machine, 20 + ROUND_MS / 8).filter((a) => a.type === "sync");
    // Round 0 closed here with both demands: asking for it again (as until #10) fetched what the
    // node held.
    expect(asked).toEqual([
      { type: "sync", want: { type: "messages", epoch: 0, round: 1, kinds: ["demand"], from: [founder.id] } },
    ]);
    // Then again while it is missing: an eighth of the timeout after the first ask, then every half
    // timeout counted from the first, and nothing between (the round is stuck after the third;
    // what the node asks of the membership then is §9's).
    const syncs = (until: number) =>
      runUntil(machine, until).filter((a) => a.type === "sync" && a.want.type === "messages");
    let at = 20 + ROUND_MS / 8;
    for (const gap of [ROUND_MS / 8, ROUND_MS / 2 - ROUND_MS / 8, ROUND_MS / 2, ROUND_MS / 2]) {
      expect(syncs(at + gap - 1)).toEqual([]);
      expect(syncs(at + gap)).toEqual(asked);
      at += gap;
    }
  });

  it("times the later asks from the first ask, not from a tick that came late", () => {
    const messagesWanted = (actions: MachineAction[]) =>
      actions.filter((a) => a.type === "sync" && a.want.type === "messages");
    const first = 10 + ROUND_MS / 8;
    /** A member waiting on the founder's demand, its first ask sent and the early one due. */
    const asked = () => {
      const machine = createAgentMachine({ contract, signer: me, profile: paperProfiles(1, 2)[0], now: 0 });
      deliver(machine, proposal(0, [founder, me], null), 10);
      expect(messagesWanted(runUntil(machine, first))).toHaveLength(1);
      expect(machine.nextDeadline()).toBe(first + ROUND_MS / 8);
      return machine;
    };
    // A busy node's timer fires 200 ms late for the early ask: the next keeps its time.
    const late = asked();
    expect(messagesWanted(late.handle({ type: "tick", now: first + ROUND_MS / 8 + 200 }))).toHaveLength(1);
    expect(messagesWanted(runUntil(late, first + ROUND_MS / 2 - 1))).toEqual([]);
    expect(messagesWanted(runUntil(late, first + ROUND_MS / 2))).toHaveLength(1);
    // One later than the next ask's time does not bring that ask straight after it.
    const veryLate = asked();
    const at = first + ROUND_MS / 2 + 100;
    expect(messagesWanted(veryLate.handle({ type: "tick", now: at }))).toHaveLength(1);
    expect(messagesWanted(runUntil(veryLate, at + ROUND_MS / 8 - 1))).toEqual([]);
    expect(messagesWanted(runUntil(veryLate, at + ROUND_MS / 8))).toHaveLength(1);
  });

  it("a new round asks again at the first ask's pace, however many asks the last one took", () => {
    const machine = createAgentMachine({ contract, signer: me, profile: paperProfiles(1, 2)[0], now: 0 });
    deliver(machine, proposal(0, [founder, me], null), 10);
    const syncs = (until: number) => runUntil(machine, until).filter((a) => a.type === "sync");
    // Round 0 waits on the founder through three asks (at 10 + roundMs/8, then /8 and /2 later).
    expect(syncs(10 + ROUND_MS / 8 + ROUND_MS / 2)).toHaveLength(3);
    const opened = 10 + ROUND_MS - 1; // round 1, just before round 0 would be stuck
    deliver(machine, demandBy(founder, 0, machine.status().prices), opened);
    expect(machine.status()).toMatchObject({ epoch: 0, round: 1 });
    // Round 1: first ask an eighth of the timeout in, the next an eighth after it (not half a timeout).
    expect(syncs(opened + ROUND_MS / 8 - 1)).toEqual([]);
    const first = syncs(opened + ROUND_MS / 8);
    expect(first).toHaveLength(1);
    expect(syncs(opened + ROUND_MS / 8 + ROUND_MS / 8)).toEqual(first);
  });

  it("while its catch-up fails, a new round first asks a quarter timeout in; once answered, an eighth again", () => {
    const machine = createAgentMachine({ contract, signer: me, profile: paperProfiles(1, 2)[0], now: 0 });
    deliver(machine, proposal(0, [founder, me], null), 10);
    const syncs = (until: number) =>
      runUntil(machine, until).filter((a) => a.type === "sync" && a.want.type === "messages");
    // Round 0 opened while catch-up was answered (none had ended yet): a request failing after the
    // round opened leaves its first ask an eighth in.
    expect(machine.handle({ type: "sync-ended", now: 100, answered: false, timeoutMs: WAIT_MS })).toEqual([]);
    expect(syncs(10 + ROUND_MS / 8 - 1)).toEqual([]);
    expect(syncs(10 + ROUND_MS / 8)).toHaveLength(1);
    let opened = 500;
    deliver(machine, demandBy(founder, 0, machine.status().prices), opened);
    expect(machine.status()).toMatchObject({ epoch: 0, round: 1 });
    expect(syncs(opened + ROUND_MS / 4 - 1)).toEqual([]);
    expect(syncs(opened + ROUND_MS / 4)).toHaveLength(1);
    // An answer after a failure counts as the last word: the next round is back to the eighth.
    machine.handle({
      type: "sync-ended",
      now: opened + ROUND_MS / 4 + 50,
      answered: false,
      timeoutMs: WAIT_MS,
    });
    machine.handle({
      type: "sync-ended",
      now: opened + ROUND_MS / 4 + 100,
      answered: true,
      timeoutMs: WAIT_MS,
    });
    opened += ROUND_MS / 4 + 200;
    deliver(machine, demandBy(founder, 1, machine.status().prices), opened);
    expect(machine.status()).toMatchObject({ epoch: 0, round: 2 });
    expect(syncs(opened + ROUND_MS / 8 - 1)).toEqual([]);
    expect(syncs(opened + ROUND_MS / 8)).toHaveLength(1);
  });

  describe("waits for the round's demands to stop coming in before it first asks", () => {
    const others = [4, 5, 6, 7].map((i) => createSigner(new Uint8Array(32).fill(i))) as [
      Signer,
      Signer,
      Signer,
      Signer,
    ];
    /** An epoch of six; round 0 closes at t = 20, so round 1 opens then. */
    const inRoundOne = () => {
      const machine = createAgentMachine({ contract, signer: me, profile: paperProfiles(1, 3)[0], now: 0 });
      deliver(machine, proposal(0, [founder, me, ...others], null), 10);
      const p0 = machine.status().prices;
      for (const s of [founder, ...others]) deliver(machine, demandBy(s, 0, p0, 1), 20);
      expect(machine.status()).toMatchObject({ epoch: 0, round: 1, status: "running" });
      return machine;
    };
    const QUIET = ROUND_MS / 8;
    const syncs = (machine: AgentMachine, until: number) =>
      runUntil(machine, until).filter((a) => a.type === "sync");
    const want = (...from: Signer[]) => ({
      type: "sync",
      want: { type: "messages", epoch: 0, round: 1, kinds: ["demand"], from: ids(...from) },
    });

    it("a demand just before the eighth mark puts the first ask off until the inflow has been quiet", () => {
      const machine = inRoundOne();
      const p1 = machine.status().prices;
      const arrived = 20 + QUIET - 10;
      expect(syncs(machine, arrived)).toEqual([]);
      deliver(machine, demandBy(others[0], 1, p1, 1), arrived);
      expect(syncs(machine, arrived + QUIET - 1)).toEqual([]);
      expect(syncs(machine, arrived + QUIET)).toEqual([want(founder, others[1], others[2], others[3])]);
      // Then an eighth of the timeout later for what is still missing, though a demand came in
      // since (the inflow is not quiet): the first ask found the round's demands no longer coming.
      deliver(machine, demandBy(others[1], 1, p1, 1), arrived + QUIET + 10);
      expect(syncs(machine, arrived + QUIET + ROUND_MS / 8 - 1)).toEqual([]);
      expect(syncs(machine, arrived + QUIET + ROUND_MS / 8)).toEqual([want(founder, others[2], others[3])]);
    });

    it("a trickle of demands cannot put it off past half the timeout", () => {
      const machine = inRoundOne();
      const p1 = machine.status().prices;
      // Each demand comes just before the inflow would count as quiet.
      let last = 20 + QUIET - 10;
      for (const [i, s] of others.entries()) {
        if (i > 0) last += QUIET - 10;
        expect(syncs(machine, last)).toEqual([]);
        deliver(machine, demandBy(s, 1, p1, 1), last);
      }
      const half = 20 + ROUND_MS / 2;
      expect(last + QUIET).toBeGreaterThan(half); // the inflow is not quiet at half the timeout
      expect(syncs(machine, half - 1)).toEqual([]);
      expect(syncs(machine, half)).toEqual([want(founder)]);
    });
  });
});
