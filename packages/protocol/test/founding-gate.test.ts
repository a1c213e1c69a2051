import { describe, expect, it } from "vitest";
import { paperProfiles } from "../src/economics/paper-scenario.ts";
import { type AgentMachine, createAgentMachine } from "../src/machine/agent-machine.ts";
import { LONE_PEER_ROUNDS, RESUME_ANSWERS, RESUME_PEERS } from "../src/machine/founding-gate.ts";
import type { MachineAction } from "../src/machine/machine-io.ts";
import { SimulatedNetwork } from "../src/sim/simulated-network.ts";
import {
  asks,
  contract,
  gossip,
  grown,
  key,
  propose,
  realChain,
  run,
  stranger,
  strangerPlan,
  strangersMessage,
  twoPeers,
} from "./decision-asks.ts";
import { HAND_BUILT_ROUND_MS, sortedIds } from "./decision-messages.ts";

/**
 * docs/protocol.md §9.3, docs/security.md §2: a message of an epoch from another agent only
 * suspends a founder's founding. One signed by a throwaway key, reaching the founder before it
 * founded, cancelled founding for good, and every joiner then asked for a decision nobody held.
 */

const ROUND_MS = HAND_BUILT_ROUND_MS;

/** A node started without bootstrap peers (`storeLost`: it ran before, and its store was lost). */
const newFounder = (storeLost = false): AgentMachine =>
  createAgentMachine({
    contract,
    signer: key(9),
    profile: paperProfiles(1, 3)[0],
    founder: true,
    storeLost,
    now: 0,
  });

const foundedBy = (actions: readonly MachineAction[]): boolean =>
  actions.some((a) => a.type === "publish" && a.message.kind === "propose" && a.message.epoch === 0);
const logged = (actions: readonly MachineAction[], msg: string): boolean =>
  actions.some((a) => a.type === "log" && a.msg.startsWith(msg));

describe("a founder's founding, suspended by another agent's message (docs/protocol.md §9.3)", () => {
  it("a stranger's one message does not cancel founding: the founder founds, and its joiners take its epoch 0", () => {
    const logs: string[] = [];
    const net = new SimulatedNetwork({
      contract,
      seed: 7,
      observer: (event) => {
        if (!("actions" in event)) return;
        for (const a of event.actions) if (a.type === "log") logs.push(a.msg);
      },
    });
    const [founder, ...joiners] = paperProfiles(4, 43).map((p, i) => net.addAgent(`n${i}`, p, key(10 + i)));
    expect(founder?.role).toBe("founder");
    // Before the founder's deadline (announceMs after its start), to every node.
    net.inject(strangersMessage);
    const founded = () =>
      [founder, ...joiners].every(
        (n) => n?.machine.status().epoch !== null && n?.machine.status().epoch !== undefined,
      );
    expect(net.runUntil(founded, 30 * ROUND_MS)).toBe(true);
    expect(logs.some((l) => l.startsWith("founding suspended"))).toBe(true);
    expect(logs.some((l) => l.startsWith("founding resumed"))).toBe(true);
    for (const n of [founder, ...joiners]) expect(n?.machine.status().epoch).toBe(0);
    const evidence = founder?.machine.decisionEvidence(0) ?? [];
    expect(evidence.map((m) => m.agent)).toEqual([key(10).id]);
    for (const n of joiners) expect(n?.machine.decisionEvidence(0)).toEqual(evidence);
  });

  it("answers without a decision resume it only once there are enough of them and a round timeout has passed", () => {
    const founder = newFounder();
    gossip(founder, strangersMessage);
    // Empty answers come as fast as it asks (FIRST_EPOCH_ASKS per announceMs): enough of them
    // well before a round timeout, which it waits out still.
    const early = run(founder, ROUND_MS - 1, () => []);
    expect(asks(early)).toBeGreaterThan(RESUME_ANSWERS);
    expect(foundedBy(early)).toBe(false);
    expect(founder.status().epoch).toBe(null);
    const later = run(founder, 2 * ROUND_MS, () => []);
    expect(logged(later, "founding resumed")).toBe(true);
    expect(foundedBy(later)).toBe(true);
    expect(founder.status().epoch).toBe(0);
  });

  it("a real network's decision, answered after a few empty answers, is adopted and the founder never founds", () => {
    const founder = newFounder();
    for (const m of realChain) gossip(founder, m);
    // Joiners as new as itself answer first; then a member of the real network.
    const actions = run(founder, 50 * ROUND_MS, (ask) =>
      ask < RESUME_ANSWERS - 1 ? [] : realChain.slice(1),
    );
    expect(founder.status()).toMatchObject({ epoch: 1, members: grown.members });
    expect(foundedBy(actions)).toBe(false);
  });

  it("the count binds: past a round timeout, 7 empty answers from 2 peers leave it suspended; the 8th resumes it", () => {
    const founder = newFounder();
    gossip(founder, strangersMessage);
    // A round timeout passes with every ask lost.
    const silent = run(founder, ROUND_MS + 1, () => "lost");
    expect(foundedBy(silent)).toBe(false);
    const at = ROUND_MS + 1;
    const answer = (i: number) => founder.handle({ type: "no-decision", now: at, peer: twoPeers(i) });
    for (let i = 0; i < RESUME_ANSWERS - 1; i++) expect(logged(answer(i), "founding resumed")).toBe(false);
    expect(founder.status().epoch).toBe(null);
    expect(logged(answer(RESUME_ANSWERS - 1), "founding resumed")).toBe(true);
  });

  it("one peer's empty answers do not resume it before LONE_PEER_ROUNDS round timeouts: they must come from 2 or more peers", () => {
    expect(RESUME_PEERS).toBe(2);
    const founder = newFounder();
    gossip(founder, strangersMessage);
    const alone = run(
      founder,
      3 * ROUND_MS,
      () => [],
      () => "joiner-0",
    );
    expect(asks(alone)).toBeGreaterThan(2 * RESUME_ANSWERS);
    expect(foundedBy(alone)).toBe(false);
    expect(founder.status().epoch).toBe(null);
    // A second peer's answer is all it lacked.
    const more = run(
      founder,
      4 * ROUND_MS,
      () => [],
      () => "joiner-1",
    );
    expect(logged(more, "founding resumed")).toBe(true);
    expect(founder.status().epoch).toBe(0);
  });

  it("in a market of two, one peer's empty answers resume it after LONE_PEER_ROUNDS round timeouts, not before", () => {
    expect(LONE_PEER_ROUNDS).toBe(4);
    const founder = newFounder();
    gossip(founder, strangersMessage);
    const before = run(
      founder,
      LONE_PEER_ROUNDS * ROUND_MS - 1,
      () => [],
      () => "joiner-0",
    );
    expect(foundedBy(before)).toBe(false);
    const after = run(
      founder,
      (LONE_PEER_ROUNDS + 2) * ROUND_MS,
      () => [],
      () => "joiner-0",
    );
    expect(logged(after, "founding resumed")).toBe(true);
    expect(founder.status().epoch).toBe(0);
  });

  it("its asks name the agents whose messages suspended it (the first few), so that their nodes are asked first", () => {
    const founder = newFounder();
    const others = [31, 32, 33, 34].map((i) => {
      const only = sortedIds(key(i));
      return propose(3, { ...strangerPlan, members: only, deciders: only, voters: only }, key(i));
    });
    gossip(founder, strangersMessage);
    for (const m of others) gossip(founder, m);
    const wants = run(founder, ROUND_MS / 2, () => "lost").flatMap((a) =>
      a.type === "sync" && a.want.type === "decision" ? [a.want] : [],
    );
    expect(wants.length).toBeGreaterThan(0);
    for (const w of wants) expect(w.from).toEqual([stranger.id, key(31).id, key(32).id]);
  });

  it("a founder whose store was lost beside its key never resumes a suspended founding, and says why", () => {
    const founder = newFounder(true);
    const heard = founder.handle({ type: "tick", now: 0 });
    expect(foundedBy(heard)).toBe(false);
    const verdict = founder.check(strangersMessage, { gossip: true });
    expect(verdict).toMatchObject({ verdict: "ignore", reason: "unasked" });
    const actions = run(founder, 10 * ROUND_MS, () => []);
    expect(asks(actions)).toBeGreaterThan(2 * RESUME_ANSWERS);
    expect(foundedBy(actions)).toBe(false);
    expect(founder.status().epoch).toBe(null);
    expect(logged(actions, "founding resumed")).toBe(false);
    expect(logged(actions, "founding suspended for good")).toBe(true);
  });

  it("a founder whose store was lost still founds when no message of an epoch was ever heard", () => {
    const founder = newFounder(true);
    const actions = run(founder, 2 * ROUND_MS, () => []);
    expect(foundedBy(actions)).toBe(true);
    expect(founder.status().epoch).toBe(0);
  });

  it("silence is not an answer: a suspended founder whose asks get none does not found, and backs off", () => {
    const founder = newFounder();
    gossip(founder, strangersMessage);
    const actions = run(founder, 60 * ROUND_MS, () => "lost");
    expect(founder.status().epoch).toBe(null);
    expect(foundedBy(actions)).toBe(false);
    // Briskly (FIRST_EPOCH_ASKS per announceMs) for a round timeout, then no faster than one
    // ask per half round timeout: not 4 per announceMs for as long as it runs.
    const tail = run(founder, 80 * ROUND_MS, () => "lost");
    expect(asks(tail)).toBeLessThanOrEqual((20 * ROUND_MS) / (ROUND_MS / 2));
    expect(asks(tail)).toBeGreaterThan(0);
  });
});
