import { describe, expect, it } from "vitest";
import { createAgentMachine } from "../src/machine/agent-machine.ts";
import { MAX_EQUIVOCATIONS, MAX_EQUIVOCATIONS_PER_AGENT } from "../src/machine/equivocation-evidence.ts";
import { contractId, contractSchema } from "../src/wire/contract.ts";
import type { AgentId } from "../src/wire/ids.ts";
import type { AliveMessage, JoinMessage, ProposeMessage, WireMessage } from "../src/wire/messages.ts";

/**
 * What an outsider's messages leave behind in a node's machine. Signatures are taken as valid
 * (the machine's `verify` is injectable): the rules under test come after the signature check,
 * and a key holder can make any number of valid signatures.
 */
const contract = contractSchema.parse({
  name: "memory",
  resources: [{ id: "r", capacity: 10 }],
  fees: { perUnit: 0, fixed: 0 },
});
const cid = contractId(contract);
const sig = (n: number) => `${n.toString(36).padStart(85, "A")}A==`;
const join = (agent: string, epoch: number, seq: number, s = 0): JoinMessage => ({
  v: 2,
  kind: "join",
  contract: cid,
  agent: agent as AgentId,
  epoch,
  seq,
  sig: sig(s),
});

const alive = (agent: string, epoch: number, seq: number, s = 0): AliveMessage => ({
  v: 2,
  kind: "alive",
  contract: cid,
  agent: agent as AgentId,
  epoch,
  seq,
  sig: sig(s),
});
/** Epoch 0 of alice and bob, founded by alice (a proposal is its proposer's accept too): bob is a member, not a voter. */
const founding: ProposeMessage = {
  v: 2,
  kind: "propose",
  contract: cid,
  agent: "alice" as AgentId,
  epoch: 0,
  view: 0,
  plan: {
    members: ["alice", "bob"] as AgentId[],
    deciders: ["alice"] as AgentId[],
    voters: ["alice"] as AgentId[],
    base: null,
    terms: null,
    ledger: null,
    cause: ["found"],
  },
  sig: sig(0),
};

function machine() {
  const m = createAgentMachine({ contract, now: 0, verify: () => true });
  let now = 0;
  const deliver = (message: WireMessage) => {
    const verdict = m.check(message);
    if (verdict.verdict === "accept") m.handle({ type: "message", now: ++now, message });
    return verdict;
  };
  return { m, deliver };
}

describe("an outsider cannot grow a node's memory without bound", () => {
  it("joins kept for nothing (one no newer than the agent's latest) leave no slot behind", () => {
    const { deliver } = machine();
    // Same seq under 500 epochs: only the first is the agent's join; the others were each kept
    // as a slot of their own, forever, so the same join again was a duplicate.
    for (let epoch = 0; epoch < 500; epoch++)
      expect(deliver(join("mallory", epoch, 1)).verdict).toBe("accept");
    expect(deliver(join("mallory", 250, 1)).verdict).toBe("accept");
    // The agent's latest join is still held: its copy is a duplicate.
    expect(deliver(join("mallory", 0, 1))).toMatchObject({ verdict: "ignore", reason: "duplicate" });
  });

  it("keeps a few equivocation proofs per agent, and at most MAX_EQUIVOCATIONS", () => {
    const { m, deliver } = machine();
    // One key signs 200 slots (its announcements 1 to 200) twice each.
    for (let seq = 1; seq <= 200; seq++) {
      deliver(join("mallory", 0, seq, 1));
      expect(deliver(join("mallory", 0, seq, 2))).toMatchObject({
        verdict: "reject",
        reason: "equivocation",
      });
    }
    expect(m.status().equivocations.map((e) => e.agent)).toEqual(
      Array(MAX_EQUIVOCATIONS_PER_AGENT).fill("mallory"),
    );
    // Many keys, each equivocating once.
    for (let i = 0; i < MAX_EQUIVOCATIONS + 50; i++) {
      deliver(join(`sybil-${i}`, 0, 1, 1));
      deliver(join(`sybil-${i}`, 0, 1, 2));
    }
    expect(m.status().equivocations).toHaveLength(MAX_EQUIVOCATIONS);
  });

  it("throwaway keys that fill the evidence cannot crowd out the proof against a member", () => {
    const { m, deliver } = machine();
    expect(deliver(founding).verdict).toBe("accept");
    expect(m.status().members).toEqual(["alice", "bob"]);
    // Under an open contract keys are free: 250 of them, 4 proofs each, fill the list.
    const keys = MAX_EQUIVOCATIONS / MAX_EQUIVOCATIONS_PER_AGENT;
    for (let i = 0; i < keys; i++)
      for (let seq = 1; seq <= MAX_EQUIVOCATIONS_PER_AGENT; seq++) {
        deliver(join(`sybil-${i}`, 0, seq, 1));
        deliver(join(`sybil-${i}`, 0, seq, 2));
      }
    expect(m.status().equivocations).toHaveLength(MAX_EQUIVOCATIONS);
    // Then a member signs two alives for one slot: its proof is kept, an outsider's made room.
    expect(deliver(alive("bob", 0, 1, 1)).verdict).toBe("accept");
    expect(deliver(alive("bob", 0, 1, 2))).toMatchObject({ verdict: "reject", reason: "equivocation" });
    const held = m.status().equivocations;
    expect(held).toHaveLength(MAX_EQUIVOCATIONS);
    expect(held.filter((e) => e.agent === "bob").map((e) => e.slot)).toHaveLength(1);
    // Another outsider's proof finds no room: the member's is not evicted for it.
    deliver(join("sybil-late", 0, 1, 1));
    deliver(join("sybil-late", 0, 1, 2));
    expect(m.status().equivocations.some((e) => e.agent === "bob")).toBe(true);
    expect(m.status().equivocations.some((e) => e.agent === "sybil-late")).toBe(false);
  });
});
