import { describe, expect, it } from "vitest";
import {
  createAgentMachine,
  MAX_EQUIVOCATIONS,
  MAX_EQUIVOCATIONS_PER_AGENT,
} from "../src/machine/agent-machine.ts";
import { contractId, contractSchema } from "../src/wire/contract.ts";
import type { AgentId } from "../src/wire/ids.ts";
import type { JoinMessage } from "../src/wire/messages.ts";

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

function machine() {
  const m = createAgentMachine({ contract, now: 0, verify: () => true });
  let now = 0;
  const deliver = (message: JoinMessage) => {
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
});
