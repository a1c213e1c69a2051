import { describe, expect, it } from "vitest";
import { planDigest, proposerOf } from "../src/machine/epoch-plan.ts";
import {
  MAX_ENTRY_BYTES,
  MAX_ENTRY_MESSAGES,
  MAX_PENDING_BYTES,
  MAX_PENDING_DECISIONS,
  PendingDecisions,
} from "../src/machine/pending-decisions.ts";
import { SlotBook } from "../src/machine/slot-book.ts";
import { type AgentId, asContractId, compareIds } from "../src/wire/ids.ts";
import { encodeMessage, MAX_MESSAGE_BYTES } from "../src/wire/message-codec.ts";
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
const agent = (name: string) => name as AgentId;
const CONTRACT = asContractId("cd".repeat(32));
const SIG = `${"A".repeat(85)}A==`;
const head = (agent: AgentId, epoch: number, view: number) =>
  ({ v: 2, contract: CONTRACT, agent, epoch, view, sig: SIG }) as const;

/**
 * `deciders` and `others` members besides, each a voter: ids as long as real ones (52
 * characters), so 2,200 of them make a plan of ~240 KB, about the largest the wire carries.
 */
const planOf = (deciders: readonly AgentId[], epoch: number, others = 0): EpochPlan => {
  const members = [
    ...deciders,
    ...Array.from({ length: others }, (_, i) => agent(`m${epoch}-${i}-`.padEnd(52, "x"))),
  ];
  return {
    members,
    deciders: [...deciders],
    voters: members,
    base: { epoch: epoch - 1, round: 0, prices: [1] },
    terms: null,
    ledger: null,
    cause: ["join"],
  };
};
const LARGE = 2_200;

/** A proposal of `epoch` in `view` by its proposer among `deciders`, and the others' accepts. */
function decision(
  epoch: number,
  deciders: AgentId[],
  { view = 0, others = 0 }: { view?: number; others?: number } = {},
): { proposal: ProposeMessage; accepts: AcceptMessage[] } {
  const ds = [...deciders].sort(compareIds);
  const plan = planOf(ds, epoch, others);
  const proposer = proposerOf(epoch, view, ds);
  const proposal = { ...head(proposer, epoch, view), kind: "propose", plan } as ProposeMessage;
  const digest = planDigest(epoch, plan);
  const accepts = ds
    .filter((id) => id !== proposer)
    .map((id) => ({ ...head(id, epoch, view), kind: "accept", plan: digest }) as AcceptMessage);
  return { proposal, accepts };
}

/** `agent`'s view message of `view` carrying the plan of `proposal` (accepted in its view). */
const viewCarrying = (a: AgentId, view: number, proposal: ProposeMessage): ViewMessage =>
  ({
    ...head(a, proposal.epoch, view),
    kind: "view",
    accepted: { view: proposal.view, plan: proposal.plan },
  }) as ViewMessage;

/**
 * A made-up candidate of `epoch` as a flood sends it: a large plan proposed in views 0 to 4 by
 * its two throwaway deciders, and each one's views carrying it.
 */
function madeUp(epoch: number): (ProposeMessage | ViewMessage)[] {
  const pair = [agent(`mallory${epoch}`), agent(`trudy${epoch}`)];
  const out: (ProposeMessage | ViewMessage)[] = [];
  for (let view = 0; view <= 4; view++) {
    const { proposal } = decision(epoch, pair, { view, others: LARGE });
    out.push(proposal);
    for (const a of pair) out.push(viewCarrying(a, view + 1, proposal));
  }
  return out;
}

/** The wire bytes of the distinct messages the table holds, counted apart from its own sum. */
const wireBytes = (ms: readonly WireMessage[]) => ms.reduce((sum, m) => sum + encodeMessage(m).byteLength, 0);

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
  /** Whether the table holds a decided candidate of `epoch`: the node would adopt it. */
  const adopts = (epoch: number) => [...pending.decisions()].some((d) => d.decided()?.epoch === epoch);
  return { slots, pending, take, held, adopts };
}

describe("PendingDecisions: what a node with no epoch remembers (docs/security.md §2)", () => {
  it("a made-up candidate's views without end: it takes them up to half of MAX_ENTRY_MESSAGES, and the rest are forgotten", () => {
    const { slots, pending, take, held } = table();
    const pair = [agent("mallory"), agent("trudy")];
    take(decision(5, pair).proposal);
    // A made-up candidate took every view message it was sent (40,000 seen), each slot kept.
    for (let view = 1; view <= 4_000; view++)
      for (const a of pair) take({ ...head(a, 5, view), kind: "view", accepted: null } as ViewMessage);
    const [candidate] = [...pending.decisions()];
    expect(candidate?.size).toBe(MAX_ENTRY_MESSAGES / 2);
    const kept = held();
    expect(kept.length).toBeLessThanOrEqual(MAX_ENTRY_MESSAGES);
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

  it("a flood of made-up large proposals and views is held to MAX_PENDING_BYTES, and the real decision answered after it is adopted", () => {
    const { slots, pending, take, held, adopts } = table();
    const flood = Array.from({ length: 20 }, (_, i) => madeUp(1000 + i));
    // Each message is near the wire's cap, as the bound's worst case has them.
    expect(encodeMessage(flood[0]?.[0] as WireMessage).byteLength).toBeGreaterThan(MAX_MESSAGE_BYTES * 0.9);
    let most = 0;
    for (const m of flood.flat()) {
      take(m);
      most = Math.max(most, pending.bytes);
    }
    // Unbounded in bytes, the 16 entries held ~48 MB here (up to 16 × 1,024 × 256 KiB).
    expect(most).toBeLessThanOrEqual(MAX_PENDING_BYTES);
    expect(pending.bytes).toBeGreaterThan(MAX_PENDING_BYTES - 2 * MAX_ENTRY_BYTES);
    // The real decision, at a plan as large, answered whole after the flood.
    const real = decision(2, ["a", "b", "c", "d", "e"].map(agent), { others: LARGE });
    for (const m of [real.proposal, ...real.accepts]) take(m);
    expect(adopts(2)).toBe(true);
    expect(pending.bytes).toBeLessThanOrEqual(MAX_PENDING_BYTES);
    const kept = held();
    expect(wireBytes(kept)).toBeLessThanOrEqual(MAX_PENDING_BYTES);
    expect(slots.size).toBe(kept.length);
  });

  it("what the byte bound pushes out is forgotten, so the real decision's messages are taken again and adopted", () => {
    const { slots, pending, take, held, adopts } = table();
    const real = decision(2, ["a", "b", "c", "d"].map(agent), { others: LARGE });
    const partial = [real.proposal, ...real.accepts.slice(1)];
    for (const m of partial) take(m);
    // Two entries an epoch (its candidate and early views), 14 with the real decision's: fewer
    // than MAX_PENDING_DECISIONS, so only the bytes push the real decision out.
    const flood = Array.from({ length: MAX_PENDING_DECISIONS / 2 - 2 }, (_, i) => madeUp(1000 + i));
    for (const m of flood.flat()) take(m);
    for (const m of partial) expect(slots.lookup(m).state).toBe("new");
    expect(adopts(2)).toBe(false);
    for (const m of [real.proposal, ...real.accepts]) take(m);
    expect(adopts(2)).toBe(true);
    expect(pending.bytes).toBeLessThanOrEqual(MAX_PENDING_BYTES);
    expect(slots.size).toBe(held().length);
  });

  it("the real deciders' own views carrying a large plan, replayed, leave room for the proposal and accepts an honest answer brings", () => {
    const { pending, take, adopts } = table();
    const deciders = ["a", "b", "c", "d", "e"].map(agent);
    const first = decision(2, deciders, { view: 0, others: LARGE });
    const second = decision(2, deciders, { view: 1, others: LARGE });
    // A view change happened: the real deciders' views carrying the plan they accepted in view 0.
    take(first.proposal);
    for (let view = 1; view <= 4; view++)
      for (const a of deciders) take(viewCarrying(a, view, first.proposal));
    expect(pending.bytes).toBeLessThanOrEqual(MAX_PENDING_BYTES);
    // The honest answer: the decision of view 1 (its proposal, then its accepts).
    for (const m of [second.proposal, ...second.accepts]) take(m);
    expect(adopts(2)).toBe(true);
  });
  it("one made-up candidate's large proposals of view after view stay within MAX_ENTRY_BYTES, the rest forgotten", () => {
    const { slots, pending, take, held } = table();
    const pair = [agent("mallory"), agent("trudy")];
    for (let view = 0; view < 40; view++) take(decision(7, pair, { view, others: LARGE }).proposal);
    // One entry (proposals go to their candidate alone): the table's bytes are the entry's.
    expect(pending.bytes).toBeLessThanOrEqual(MAX_ENTRY_BYTES);
    expect(pending.bytes).toBeGreaterThan(MAX_ENTRY_BYTES - MAX_MESSAGE_BYTES);
    const kept = held();
    expect(kept.length).toBeLessThan(40);
    expect(slots.size).toBe(kept.length);
  });

  it("an epoch's early views carrying large plans fill at most half of MAX_ENTRY_BYTES, the rest forgotten", () => {
    const { slots, pending, take, held } = table();
    const big = decision(7, [agent("mallory"), agent("trudy")], { others: LARGE }).proposal;
    // No candidate of epoch 7 is held: every view goes to the epoch's early entry alone.
    for (let i = 0; i < 20; i++) take(viewCarrying(agent(`sybil${i}`), 1, big));
    expect(pending.bytes).toBeLessThanOrEqual(MAX_ENTRY_BYTES / 2);
    expect(pending.bytes).toBeGreaterThan(MAX_ENTRY_BYTES / 2 - MAX_MESSAGE_BYTES);
    const kept = held();
    expect(kept.length).toBeLessThan(20);
    expect(slots.size).toBe(kept.length);
  });

  it("the real deciders' views of a view change, replayed first, leave room in messages for the decision's accepts", () => {
    const { take, adopts } = table();
    // Each view carries no plan: small, so only the count of messages could crowd the entry.
    // As many deciders as the wire's cap on a plan allows (plan-fit.ts: ~1,600), so a quorum and
    // its proposal fill only the half views leave at MAX_ENTRY_MESSAGES = 2,048, not at 1,024.
    const deciders = Array.from({ length: 1_600 }, (_, i) => agent(`d${i}-`.padEnd(52, "z")));
    const decided = decision(2, deciders, { view: 1 });
    for (const a of deciders) take({ ...head(a, 2, 1), kind: "view", accepted: null } as ViewMessage);
    for (const m of [decided.proposal, ...decided.accepts]) take(m);
    expect(adopts(2)).toBe(true);
  });

  it("made-up candidates tuned to just under the table's bytes, then an honest answer whose proposal was replayed: the real candidate stays and is adopted", () => {
    const real = decision(2, ["a", "b", "c", "d", "e"].map(agent), { others: 200 });
    /** The table just before the honest answer, the last made-up proposal padded by `pad` prices. */
    const tuned = (pad: number) => {
      const t = table();
      // The peer replays the real proposal (public: gossip carries it) ...
      t.take(real.proposal);
      // ... then made-up candidates of the same epoch, large, until the table is near its bytes.
      let view = 0;
      for (let i = 0; i < 6; i++) {
        const pair = [agent(`mallory${i}`), agent(`trudy${i}`)];
        for (let k = 0; k < 8; k++) {
          const p = decision(2, pair, { view: view++, others: LARGE }).proposal;
          if (t.pending.bytes + encodeMessage(p).byteLength + 40_000 > MAX_PENDING_BYTES) break;
          t.take(p);
        }
      }
      const last = decision(2, [agent("mallory9"), agent("trudy9")], { view: view++ }).proposal;
      const prices = Array<number>(pad + 1).fill(1);
      const plan = { ...last.plan, base: { epoch: 1, round: 0, prices } };
      t.take({ ...last, plan } as ProposeMessage);
      return t;
    };
    // Each price pads the last proposal by 2 bytes (",1"): land it within an accept of the bound.
    const pad = Math.floor((MAX_PENDING_BYTES - tuned(0).pending.bytes - 300) / 2);
    const t = tuned(pad);
    expect(t.pending.bytes).toBeGreaterThan(MAX_PENDING_BYTES - 400);
    expect(t.pending.bytes).toBeLessThanOrEqual(MAX_PENDING_BYTES);
    // The honest answer: its proposal a duplicate (set aside before the table), then its accepts.
    expect(t.slots.lookup(real.proposal).state).toBe("duplicate");
    for (const m of real.accepts) t.take(m);
    expect(t.adopts(2)).toBe(true);
  });
});
