import { describe, expect, it } from "vitest";
import { planDigest, proposerOf } from "../src/machine/epoch-plan.ts";
import {
  MAX_ENTRY_MESSAGES,
  MAX_PENDING_DECISIONS,
  PendingDecisions,
} from "../src/machine/pending-decisions.ts";
import { SlotBook } from "../src/machine/slot-book.ts";
import { type AgentId, asContractId, compareIds } from "../src/wire/ids.ts";
import type {
  AcceptMessage,
  EpochPlan,
  ProposeMessage,
  ViewMessage,
  WireMessage,
} from "../src/wire/messages.ts";

/**
 * What the table of a node with no epoch leaves in its SlotBook (docs/security.md §2): every
 * message it takes is held by an entry or forgotten, so the slots it keeps are bounded by what the
 * table holds, and a message pushed out is taken again when it comes back. Signatures play no
 * part here (the machine checks them before the table sees a message): placeholders.
 */
const CONTRACT = asContractId("cd".repeat(32));
const SIG = `${"A".repeat(85)}A==`;
const head = (agent: AgentId, epoch: number, view: number) =>
  ({ v: 2, contract: CONTRACT, agent, epoch, view, sig: SIG }) as const;

const planOf = (deciders: readonly AgentId[], epoch: number): EpochPlan => ({
  members: [...deciders],
  deciders: [...deciders],
  voters: [...deciders],
  base: { epoch: epoch - 1, round: 0, prices: [1] },
  terms: null,
  ledger: null,
  cause: ["join"],
});

/** A proposal of `epoch` in view 0 by its proposer among `deciders`, and the others' accepts. */
function decision(
  epoch: number,
  deciders: AgentId[],
): { proposal: ProposeMessage; accepts: AcceptMessage[] } {
  const ds = [...deciders].sort(compareIds);
  const plan = planOf(ds, epoch);
  const proposer = proposerOf(epoch, 0, ds);
  const proposal = { ...head(proposer, epoch, 0), kind: "propose", plan } as ProposeMessage;
  const accepts = ds
    .filter((id) => id !== proposer)
    .map((id) => ({ ...head(id, epoch, 0), kind: "accept", plan: planDigest(epoch, plan) }) as AcceptMessage);
  return { proposal, accepts };
}

const agent = (name: string) => name as AgentId;

/** A table and the SlotBook it forgets into, each message recorded as the machine records it. */
function table() {
  const slots = new SlotBook();
  const pending = new PendingDecisions(null);
  let now = 0;
  const take = (m: ProposeMessage | AcceptMessage | ViewMessage) => {
    expect(slots.lookup(m).state).toBe("new");
    slots.record(m);
    pending.take(m, ++now, (x) => slots.forget(x));
  };
  /** Every distinct message the table holds (and then it holds nothing). */
  const held = (): WireMessage[] => pending.drainAfter(-1);
  return { slots, pending, take, held };
}

describe("PendingDecisions: what a node with no epoch remembers (docs/security.md §2)", () => {
  it("a made-up candidate's views without end: it holds at most MAX_ENTRY_MESSAGES, and the rest are forgotten", () => {
    const { slots, pending, take, held } = table();
    const pair = [agent("mallory"), agent("trudy")];
    take(decision(5, pair).proposal);
    // A made-up candidate took every view message it was sent (40,000 seen), each slot kept.
    for (let view = 1; view <= 4_000; view++)
      for (const a of pair) take({ ...head(a, 5, view), kind: "view", accepted: null } as ViewMessage);
    const [candidate] = [...pending.decisions()];
    expect(candidate?.size).toBe(MAX_ENTRY_MESSAGES);
    const kept = held();
    expect(kept.length).toBeLessThanOrEqual(2 * MAX_ENTRY_MESSAGES);
    expect(slots.size).toBe(kept.length);
  });

  it("what an eviction pushes out is forgotten, so it is taken again when it comes back", () => {
    const { slots, take, held } = table();
    const real = decision(2, ["a", "b", "c", "d"].map(agent));
    const partial = [real.proposal, ...real.accepts.slice(1)];
    for (const m of partial) take(m);
    for (let i = 0; i < MAX_PENDING_DECISIONS; i++)
      take(decision(1000 + i, [agent(`x${i}`), agent(`y${i}`)]).proposal);
    for (const m of partial) expect(slots.lookup(m).state).toBe("new");
    expect(slots.size).toBe(held().length);
  });
});
