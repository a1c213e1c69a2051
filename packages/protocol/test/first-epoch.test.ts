import { describe, expect, it } from "vitest";
import { paperProfiles } from "../src/economics/paper-scenario.ts";
import { type AgentMachine, createAgentMachine } from "../src/machine/agent-machine.ts";
import { decisionsFrom, proposerOf } from "../src/machine/epoch-plan.ts";
import type { MachineAction } from "../src/machine/machine-io.ts";
import { createSigner, type Signer } from "../src/wire/agent-key.ts";
import type { AgentId } from "../src/wire/ids.ts";
import type { EpochPlan, WireMessage } from "../src/wire/messages.ts";
import {
  HAND_BUILT_BASE,
  HAND_BUILT_ROUND_MS,
  handBuiltMarket,
  soloFoundingPlan,
  sortedIds,
} from "./decision-messages.ts";

/**
 * docs/protocol.md §9.3, docs/security.md §2: a node that knows no epoch takes its first one on
 * trust, but only from the peers it asks (a sync `decision` answer), never from whatever gossip
 * reaches it first, so a stranger with two throwaway keys cannot capture it.
 */

const ROUND_MS = HAND_BUILT_ROUND_MS;
const BASE = HAND_BUILT_BASE;
const { contract, propose, accept } = handBuiltMarket("first epoch");

const key = (i: number): Signer => createSigner(new Uint8Array(32).fill(i));
const ids = sortedIds;
const signerOf = (id: AgentId, among: readonly Signer[]): Signer => among.find((s) => s.id === id) as Signer;

/** A decided epoch `epoch` > 0 of `members` (all voters), decided by `deciders`: proposal and a quorum's accepts. */
function decided(epoch: number, members: Signer[], deciders: Signer[]): WireMessage[] {
  const plan: EpochPlan = {
    members: ids(...members),
    deciders: ids(...deciders),
    voters: ids(...members),
    base: { epoch: epoch - 1, round: 0, prices: BASE },
    terms: null,
    ledger: null,
    cause: ["join"],
  };
  const proposer = signerOf(proposerOf(epoch, 0, plan.deciders), deciders);
  const quorum = Math.floor(deciders.length / 2) + 1;
  const others = deciders.filter((s) => s !== proposer).slice(0, quorum - 1);
  return [propose(epoch, plan, proposer), ...others.map((s) => accept(s, epoch, plan))];
}

/** The real market: founded by `founder`, epoch 1 of four members, epoch 2 the same four. */
const founder = key(1);
const members = [2, 3, 4, 5].map(key);
const epoch0 = soloFoundingPlan(founder);
const chain: WireMessage[] = [
  propose(0, epoch0, founder),
  ...decided(1, members, [founder]),
  ...decided(2, members, members),
];

/** A stranger's epoch 1: two throwaway keys name themselves its members and deciders. */
const fake = decided(1, [key(20), key(21)], [key(20), key(21)]);

/** An honest peer in epoch 2: what a joiner's sync `decision` requests are answered from. */
function honestPeer(): AgentMachine {
  const peer = createAgentMachine({ contract, now: 0 });
  let now = 1;
  for (const m of chain) {
    expect(peer.check(m).verdict).toBe("accept");
    peer.handle({ type: "message", now: now++, message: m });
  }
  expect(peer.status().epoch).toBe(2);
  return peer;
}

function answer(peer: AgentMachine, epoch: number | null): readonly WireMessage[] {
  if (epoch !== null) return decisionsFrom(chain, epoch);
  return [...peer.exclusionPlans(), ...(peer.decisionEvidence(null) ?? [])];
}

/** Hands `m` to `machine` as the edge does: judged (as gossip or as a sync answer), then applied if accepted. */
function arrive(machine: AgentMachine, m: WireMessage, now: number, gossip: boolean): MachineAction[] {
  const verdict = machine.check(m, { gossip });
  return verdict.verdict === "accept" ? machine.handle({ type: "message", now, message: m }) : [];
}

/** Runs `joiner` tick by tick until `until`, answering every sync `decision` it asks from `peer`. */
function run(joiner: AgentMachine, peer: AgentMachine, actions: MachineAction[], until: number): void {
  let pending = actions;
  for (let guard = 0; guard < 10_000; guard++) {
    for (const a of pending)
      if (a.type === "sync" && a.want.type === "decision")
        for (const m of answer(peer, a.want.epoch)) arrive(joiner, m, joiner.nextDeadline() - 1, false);
    const at = joiner.nextDeadline();
    if (at > until) return;
    pending = joiner.handle({ type: "tick", now: at });
  }
}

const newJoiner = (): AgentMachine =>
  createAgentMachine({ contract, signer: key(9), profile: paperProfiles(1, 3)[0], now: 0 });

describe("a fresh node's first epoch (docs/protocol.md §9.3)", () => {
  it("a stranger's decided epoch, gossiped before the joiner's first answer, does not capture it", () => {
    const peer = honestPeer();
    const joiner = newJoiner();
    const heard = fake.flatMap((m, i) => arrive(joiner, m, 10 + i, true));
    expect(joiner.status().epoch).toBe(null);
    run(joiner, peer, heard, 50 * ROUND_MS);
    expect(joiner.status()).toMatchObject({ epoch: 2, members: ids(...members) });
    expect(joiner.decisionEvidence(null)).toEqual(peer.decisionEvidence(null));
  });

  it("the real decision heard by gossip is not taken either: it makes the joiner ask at once, and the answer (the same messages) is", () => {
    const peer = honestPeer();
    const joiner = newJoiner();
    for (const m of peer.decisionEvidence(null) ?? []) {
      expect(joiner.check(m, { gossip: true })).toMatchObject({ verdict: "ignore", reason: "unasked" });
      // A network runs: its decision-sync timer is due now, not after the starting back-off.
      expect(joiner.nextDeadline()).toBe(0);
    }
    const ask = joiner.handle({ type: "tick", now: 5 });
    expect(ask).toContainEqual({ type: "sync", want: { type: "decision", epoch: null } });
    expect(joiner.status().epoch).toBe(null);
    for (const m of answer(peer, null)) arrive(joiner, m, 6, false);
    expect(joiner.status()).toMatchObject({ epoch: 2, members: ids(...members) });
  });

  it("a decision its bootstrap node sent itself is taken by gossip, as that node's answer would be", () => {
    const joiner = newJoiner();
    joiner.handle({ type: "bootstrap-peer", now: 0, peer: founder.id });
    const founding = chain[0] as WireMessage;
    expect(joiner.check(founding, { gossip: true, from: founder.id })).toEqual({
      verdict: "accept",
      onTrust: true,
    });
    joiner.handle({ type: "message", now: 1, message: founding });
    expect(joiner.status()).toMatchObject({ epoch: 0, members: [founder.id] });
    // Adopted as it arrived: the ask the message began finds an epoch held and is never sent.
    const actions = joiner.handle({ type: "tick", now: 2 });
    expect(
      actions.filter((a) => a.type === "sync" && a.want.type === "decision" && a.want.epoch === null),
    ).toEqual([]);
  });

  it("but not a copy another peer forwards, nor one a peer that is not its bootstrap node sent itself", () => {
    const joiner = newJoiner();
    joiner.handle({ type: "bootstrap-peer", now: 0, peer: founder.id });
    const founding = chain[0] as WireMessage;
    const unasked = { verdict: "ignore", reason: "unasked" };
    // Relayed: a stranger may replay a bootstrap node's old decision to send a joiner through every epoch since.
    expect(joiner.check(founding, { gossip: true, from: key(20).id })).toMatchObject(unasked);
    expect(joiner.check(founding, { gossip: true })).toMatchObject(unasked);
    // A stranger's own decided epoch, sent by itself: it is no bootstrap node of this joiner.
    expect(arrive(joiner, fake[0] as WireMessage, 3, true)).toEqual([]);
    expect(joiner.check(fake[0] as WireMessage, { gossip: true, from: fake[0]?.agent })).toMatchObject(
      unasked,
    );
    // Nor does the founder count before this node is told it bootstraps from it.
    const unbooted = newJoiner();
    expect(unbooted.check(founding, { gossip: true, from: founder.id })).toMatchObject(unasked);
    expect(joiner.status().epoch).toBe(null);
    expect(unbooted.status().epoch).toBe(null);
  });

  it("once it has an epoch, a node takes the next decision by gossip as before", () => {
    const joiner = newJoiner();
    let now = 1;
    for (const m of chain.slice(0, 2)) arrive(joiner, m, now++, false);
    expect(joiner.status().epoch).toBe(1);
    for (const m of chain.slice(2)) arrive(joiner, m, now++, true);
    expect(joiner.status().epoch).toBe(2);
  });
});

/**
 * A peer the joiner asks answers with proposals made up for `epochs`, each by a throwaway key
 * naming itself and a second throwaway key its deciders: never decided (the second never accepts),
 * so they capture nothing, but each holds a pending decision (docs/security.md §2).
 */
function madeUp(epochs: readonly number[], salt: number): WireMessage[] {
  return epochs.map((epoch, i) => {
    const pair = [key(30 + ((salt + 2 * i) % 200)), key(31 + ((salt + 2 * i) % 200))];
    return decided(epoch, pair, pair)[0] as WireMessage;
  });
}

const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, i) => from + i);

describe("made-up proposals from a peer the joiner asks (docs/security.md §2)", () => {
  const floods: Record<string, readonly number[]> = {
    "far epochs (1000 and up)": range(1000, 20),
    "near epochs (3 to 22)": range(3, 20),
    "the real epoch itself, under 20 made-up decider sets": Array(20).fill(2),
    "the epoch below, near and far epochs mixed": [1, ...range(3, 10), ...range(5000, 10)],
  };
  for (const [name, epochs] of Object.entries(floods))
    it(`do not keep it from adopting the real epoch: ${name}, answered before the honest answer`, () => {
      const peer = honestPeer();
      const joiner = newJoiner();
      let now = 10;
      for (const m of madeUp(epochs, 0)) arrive(joiner, m, now++, false);
      expect(joiner.status().epoch).toBe(null);
      for (const m of answer(peer, null)) arrive(joiner, m, now++, false);
      expect(joiner.status()).toMatchObject({ epoch: 2, members: ids(...members) });
      expect(joiner.decisionEvidence(null)).toEqual(peer.decisionEvidence(null));
    });
});

describe("a made-up proposal of the real epoch, then the real decision's accepts before its proposal", () => {
  it("the accepts wait for the real proposal, and the joiner adopts it", () => {
    const peer = honestPeer();
    const joiner = newJoiner();
    let now = 10;
    for (const m of madeUp([2], 0)) arrive(joiner, m, now++, false);
    const [proposal, ...accepts] = peer.decisionEvidence(null) ?? [];
    for (const m of [...accepts, proposal as WireMessage]) arrive(joiner, m, now++, false);
    expect(joiner.status()).toMatchObject({ epoch: 2, members: ids(...members) });
  });
});

describe("the real decision's own messages, then made-up proposals, from a peer the joiner asks (docs/security.md §2)", () => {
  // The real proposal and accepts are public (gossip carries them): a hostile peer answers with
  // them, then enough made-up proposals to push them out of the table. What is pushed out must be
  // taken again when an honest answer brings it: kept as seen, it was dropped as a duplicate.
  const [proposal, ...accepts] = honestPeer().decisionEvidence(null) ?? [];
  const replays: Record<string, readonly WireMessage[]> = {
    "the real proposal": [proposal as WireMessage],
    "the real accepts": accepts,
    "the real proposal and all but one accept": [proposal as WireMessage, ...accepts.slice(1)],
  };
  for (const [name, replayed] of Object.entries(replays))
    it(`do not keep it from adopting the real epoch at the next honest answer: ${name}`, () => {
      const peer = honestPeer();
      const joiner = newJoiner();
      let now = 10;
      for (const m of [...replayed, ...madeUp(range(1000, 16), 0)]) arrive(joiner, m, now++, false);
      expect(joiner.status().epoch).toBe(null);
      for (const m of answer(peer, null)) arrive(joiner, m, now++, false);
      expect(joiner.status()).toMatchObject({ epoch: 2, members: ids(...members) });
      expect(joiner.decisionEvidence(null)).toEqual(peer.decisionEvidence(null));
    });
});
