import { describe, expect, it } from "vitest";
import { planDigest } from "../src/machine/epoch-plan.ts";
import { SlotBook } from "../src/machine/slot-book.ts";
import { type ValidationState, validate } from "../src/machine/validate.ts";
import { createSigner, type Signer } from "../src/wire/agent-key.ts";
import { contractSchema } from "../src/wire/contract.ts";
import { asContractId, compareIds } from "../src/wire/ids.ts";
import { MAX_MESSAGE_BYTES } from "../src/wire/message-codec.ts";
import {
  type AcceptMessage,
  type CommitMessage,
  type DemandMessage,
  type EpochPlan,
  type JoinMessage,
  PROTOCOL_VERSION,
  type ProposeMessage,
  type Unsigned,
  type ViewMessage,
  type WireMessage,
} from "../src/wire/messages.ts";
import { signMessage, verifyMessage } from "../src/wire/signing.ts";

/**
 * docs/protocol.md §5, one row per rule and reason: a node in epoch 3 (members A, B, C), round 5,
 * on a one-resource contract with an allowlist of A–E. validate() is pure, so the state is given.
 */
const signers = [1, 2, 3, 4, 5, 6].map((i) => createSigner(new Uint8Array(32).fill(i)));
const [A, B, C, D, E, Outsider] = [...signers].sort((x, y) => compareIds(x.id, y.id)) as [
  Signer,
  Signer,
  Signer,
  Signer,
  Signer,
  Signer,
];
const members = [A, B, C].map((s) => s.id).sort(compareIds);
const CONTRACT = asContractId("ab".repeat(32));
const OTHER = asContractId("cd".repeat(32));
/** The terms in effect (their id is taken to be CONTRACT: validation compares ids, not documents). */
const TERMS = contractSchema.parse({
  name: "validate",
  resources: [{ id: "cpu", capacity: 10 }],
  fees: { perUnit: 0.5, fixed: 0 },
});
const amended = (over: Record<string, unknown> = {}) =>
  contractSchema.parse({ ...TERMS, resources: [{ id: "cpu", capacity: 12 }], amends: CONTRACT, ...over });
const P5 = [1.5];
const EPOCH = 3;
const ROUND = 5;

function state(overrides: Partial<ValidationState> = {}, slots = new SlotBook()): ValidationState {
  return {
    contractId: CONTRACT,
    resources: 1,
    maxMessageBytes: MAX_MESSAGE_BYTES,
    allowed: (agent) => [A, B, C, D, E].some((s) => s.id === agent),
    slots,
    epoch: {
      number: EPOCH,
      members,
      memberSet: new Set(members),
      voters: members,
      terms: TERMS,
      termsId: CONTRACT,
      round: ROUND,
      pricesAt: (round) => (round === ROUND ? P5 : undefined),
    },
    previous: {
      number: EPOCH - 1,
      members: [A.id, B.id],
      memberSet: new Set([A.id, B.id]),
      voters: [A.id, B.id],
      terms: TERMS,
      termsId: CONTRACT,
    },
    couldJoin: (agent) => members.includes(agent) || agent === D.id,
    verify: verifyMessage,
    ...overrides,
  };
}

const sign = <M extends WireMessage>(signer: Signer, body: Record<string, unknown>): M =>
  signMessage<M>(
    { v: PROTOCOL_VERSION, contract: CONTRACT, agent: signer.id, ...body } as Unsigned<M>,
    signer,
  );

const demand = (signer: Signer, over: Record<string, unknown> = {}) =>
  sign<DemandMessage>(signer, {
    kind: "demand",
    epoch: EPOCH,
    round: ROUND,
    prices: P5,
    x: 1,
    slope: -0.5,
    footprint: [1],
    ...over,
  });

const commit = (signer: Signer, over: Record<string, unknown> = {}) =>
  sign<CommitMessage>(signer, {
    kind: "commit",
    epoch: EPOCH,
    round: 4,
    members,
    prices: P5,
    allocations: members.map((agent) => ({ agent, x: 1, footprint: [1] })),
    residual: 0,
    ...over,
  });

const plan = (over: Partial<EpochPlan> = {}): EpochPlan => ({
  members: [...members, D.id].sort(compareIds) as EpochPlan["members"],
  deciders: members as EpochPlan["deciders"],
  voters: members as EpochPlan["voters"],
  base: { epoch: EPOCH, round: ROUND, prices: P5 },
  terms: null,
  ledger: null,
  cause: ["join"],
  ...over,
});

/** The proposer of view v for epoch 4 over A, B, C: members[(4 + v) % 3]. */
const proposerOf = (view: number) =>
  [A, B, C].find((s) => s.id === members[(EPOCH + 1 + view) % 3]) as Signer;
const notProposerOf = (view: number) =>
  [A, B, C].find((s) => s.id !== members[(EPOCH + 1 + view) % 3]) as Signer;

const propose = (signer: Signer, view: number, p: EpochPlan = plan(), epoch = EPOCH + 1) =>
  sign<ProposeMessage>(signer, { kind: "propose", epoch, view, plan: p });

const accept = (signer: Signer, view = 0, epoch = EPOCH + 1) =>
  sign<AcceptMessage>(signer, { kind: "accept", epoch, view, plan: planDigest(epoch, plan()) });

const viewChange = (
  signer: Signer,
  view: number,
  accepted: { view: number; plan: EpochPlan } | null = null,
) => sign<ViewMessage>(signer, { kind: "view", epoch: EPOCH + 1, view, accepted });

const join = (signer: Signer) => sign<JoinMessage>(signer, { kind: "join", epoch: 0, seq: 1 });

interface Row {
  readonly rule: string;
  readonly message: () => WireMessage;
  readonly state?: () => ValidationState;
  readonly verdict: "accept" | "reject" | "ignore";
  readonly reason?: string;
  /** Accepted without its signer's membership judged (no epoch here, or a later one). */
  readonly onTrust?: boolean;
  /** Accepted but held for a later epoch, not applied now (agent-machine.ts holds by the same rule). */
  readonly held?: boolean;
}

const rows: Row[] = [
  // 4. contract
  {
    rule: "another contract",
    message: () => ({ ...demand(A), contract: OTHER }),
    verdict: "reject",
    reason: "wrong-contract",
  },
  // 5. resource counts
  {
    rule: "two prices for one resource",
    message: () => demand(A, { prices: [1.5, 2] }),
    verdict: "reject",
    reason: "resource-count",
  },
  {
    rule: "footprint of two",
    message: () => demand(A, { footprint: [1, 1] }),
    verdict: "reject",
    reason: "resource-count",
  },
  {
    rule: "commit allocation footprint of two",
    message: () => commit(A, { allocations: members.map((agent) => ({ agent, x: 1, footprint: [1, 0] })) }),
    verdict: "reject",
    reason: "resource-count",
  },
  {
    rule: "a plan's base with two prices",
    message: () => propose(proposerOf(0), 0, plan({ base: { epoch: EPOCH, round: 1, prices: [1, 2] } })),
    verdict: "reject",
    reason: "resource-count",
  },
  // 6. duplicate
  {
    rule: "the same message again",
    message: () => demand(A),
    state: () => {
      const slots = new SlotBook();
      slots.record(demand(A));
      return state({}, slots);
    },
    verdict: "ignore",
    reason: "duplicate",
  },
  // 7. allowlist
  {
    rule: "a key not on the allowlist",
    message: () => join(Outsider),
    verdict: "reject",
    reason: "not-allowed",
  },
  // 8. window: joins
  { rule: "a join from an allowed agent", message: () => join(E), verdict: "accept" },
  // 8. window: demands, commits, alive, leave
  {
    rule: "an earlier epoch's demand",
    message: () => demand(A, { epoch: EPOCH - 1 }),
    verdict: "ignore",
    reason: "stale",
  },
  {
    rule: "a later epoch's demand from a member",
    message: () => demand(A, { epoch: EPOCH + 2 }),
    verdict: "accept",
    held: true,
  },
  {
    rule: "the next epoch's demand from a member",
    message: () => demand(A, { epoch: EPOCH + 1 }),
    verdict: "accept",
    held: true,
  },
  {
    rule: "a later epoch's demand from an agent asking to join",
    message: () => demand(D, { epoch: EPOCH + 1 }),
    verdict: "accept",
    onTrust: true,
    held: true,
  },
  {
    rule: "a later epoch's demand from an agent out of view",
    message: () => demand(E, { epoch: EPOCH + 2 }),
    verdict: "ignore",
    reason: "future",
  },
  { rule: "a demand from a non-member", message: () => demand(D), verdict: "reject", reason: "not-member" },
  {
    rule: "a demand two rounds behind",
    message: () => demand(A, { round: ROUND - 2 }),
    verdict: "ignore",
    reason: "stale",
  },
  {
    rule: "a demand nine rounds ahead",
    message: () => demand(A, { round: ROUND + 9 }),
    verdict: "ignore",
    reason: "future",
  },
  {
    rule: "a demand eight rounds ahead",
    message: () => demand(A, { round: ROUND + 8, prices: [9] }),
    verdict: "accept",
  },
  {
    rule: "a demand answering other prices",
    message: () => demand(A, { prices: [1.25] }),
    verdict: "reject",
    reason: "price-mismatch",
  },
  {
    rule: "a commit naming other members",
    message: () =>
      commit(A, {
        members: [A.id, B.id].sort(compareIds),
        allocations: [A.id, B.id].sort(compareIds).map((agent) => ({ agent, x: 1, footprint: [1] })),
      }),
    verdict: "reject",
    reason: "not-member",
  },
  {
    rule: "a commit for the previous epoch from its member",
    message: () =>
      commit(A, {
        epoch: EPOCH - 1,
        members: [A.id, B.id].sort(compareIds),
        allocations: [A.id, B.id].sort(compareIds).map((agent) => ({ agent, x: 1, footprint: [1] })),
      }),
    verdict: "accept",
  },
  {
    rule: "a commit two epochs back",
    message: () => commit(A, { epoch: EPOCH - 2 }),
    verdict: "ignore",
    reason: "stale",
  },
  { rule: "a member's commit, any round", message: () => commit(A, { round: 0 }), verdict: "accept" },
  // 8. window: epoch decisions
  {
    rule: "a proposal for the current epoch",
    message: () => propose(proposerOf(0), 0, plan(), EPOCH),
    verdict: "ignore",
    reason: "stale",
  },
  {
    rule: "a proposal from a non-decider",
    message: () => propose(D, 0),
    verdict: "reject",
    reason: "not-member",
  },
  {
    rule: "a proposal from a decider who is not the view's proposer",
    message: () => propose(notProposerOf(1), 1),
    verdict: "reject",
    reason: "not-proposer",
  },
  { rule: "the view's proposer's proposal", message: () => propose(proposerOf(1), 1), verdict: "accept" },
  {
    rule: "a plan whose deciders are not the current members",
    message: () =>
      propose(proposerOf(0), 0, plan({ deciders: [A.id, B.id].sort(compareIds) as EpochPlan["deciders"] })),
    verdict: "reject",
    reason: "bad-plan",
  },
  {
    rule: "a plan with unsorted members",
    message: () => propose(proposerOf(0), 0, plan({ members: [...plan().members].reverse() })),
    verdict: "reject",
    reason: "bad-plan",
  },
  {
    rule: "a plan based on another epoch",
    message: () => propose(proposerOf(0), 0, plan({ base: { epoch: EPOCH - 1, round: 0, prices: P5 } })),
    verdict: "reject",
    reason: "bad-plan",
  },
  {
    rule: "a plan naming an agent off the allowlist",
    message: () =>
      propose(
        proposerOf(0),
        0,
        plan({ members: [...members, Outsider.id].sort(compareIds) as EpochPlan["members"] }),
      ),
    verdict: "reject",
    reason: "bad-plan",
  },
  { rule: "an accept from a decider", message: () => accept(B), verdict: "accept" },
  { rule: "an accept from a non-decider", message: () => accept(D), verdict: "reject", reason: "not-member" },
  {
    rule: "an accept for two epochs ahead from a member",
    message: () => accept(B, 0, EPOCH + 2),
    verdict: "accept",
    held: true,
  },
  {
    rule: "an accept for two epochs ahead from an agent out of view",
    message: () => accept(E, 0, EPOCH + 2),
    verdict: "ignore",
    reason: "future",
  },
  {
    rule: "a view change carrying a bad plan",
    message: () => viewChange(A, 2, { view: 0, plan: plan({ base: null }) }),
    verdict: "reject",
    reason: "bad-plan",
  },
  {
    rule: "a view change from a decider",
    message: () => viewChange(A, 2, { view: 0, plan: plan() }),
    verdict: "accept",
  },
  // Before any epoch: the plan's own deciders (trust on first use), shape still checked.
  {
    rule: "a founder's first epoch, seen by a node with no epoch",
    message: () =>
      propose(
        E,
        0,
        {
          members: [D.id, E.id].sort(compareIds) as EpochPlan["members"],
          deciders: [E.id] as EpochPlan["deciders"],
          voters: [E.id] as EpochPlan["voters"],
          base: null,
          terms: null,
          ledger: null,
          cause: ["found"],
        },
        0,
      ),
    state: () => state({ epoch: null, previous: null }),
    verdict: "accept",
    onTrust: true,
  },
  {
    rule: "a first epoch with two deciders",
    message: () => propose(proposerOf(0), 0, plan({ base: null }), 0),
    state: () => state({ epoch: null, previous: null }),
    verdict: "reject",
    reason: "bad-plan",
  },
  {
    rule: "a demand before any epoch",
    message: () => demand(E, { epoch: 9 }),
    state: () => state({ epoch: null, previous: null }),
    verdict: "accept",
    onTrust: true,
    held: true,
  },
  {
    rule: "a join before any epoch (it names no epoch's membership)",
    message: () => join(E),
    state: () => state({ epoch: null, previous: null }),
    verdict: "accept",
  },
  // Markets over time (§12): bids, amendments.
  {
    rule: "a member's rebid",
    message: () => sign(A, { kind: "rebid", epoch: EPOCH, seq: 1 }),
    verdict: "accept",
  },
  {
    rule: "a rebid from a non-member",
    message: () => sign(D, { kind: "rebid", epoch: EPOCH, seq: 1 }),
    verdict: "reject",
    reason: "not-member",
  },
  {
    rule: "a member's amendment of the terms in effect",
    message: () => sign(A, { kind: "amend", epoch: EPOCH, terms: amended() }),
    verdict: "accept",
  },
  {
    rule: "an amendment from a non-member",
    message: () => sign(D, { kind: "amend", epoch: EPOCH, terms: amended() }),
    verdict: "reject",
    reason: "not-member",
  },
  {
    rule: "an amendment of other terms",
    message: () => sign(A, { kind: "amend", epoch: EPOCH, terms: amended({ amends: OTHER }) }),
    verdict: "reject",
    reason: "bad-amendment",
  },
  {
    rule: "an amendment that changes more than capacities and fees",
    message: () => sign(A, { kind: "amend", epoch: EPOCH, terms: amended({ quorum: 0.9 }) }),
    verdict: "reject",
    reason: "bad-amendment",
  },
  {
    rule: "an amendment that changes nothing",
    message: () =>
      sign(A, { kind: "amend", epoch: EPOCH, terms: amended({ resources: [{ id: "cpu", capacity: 10 }] }) }),
    verdict: "reject",
    reason: "bad-amendment",
  },
  {
    rule: "a member's approval",
    message: () => sign(B, { kind: "approve", epoch: EPOCH, amendment: "ef".repeat(32) }),
    verdict: "accept",
  },
  {
    rule: "an approval from the previous epoch's member",
    message: () => sign(A, { kind: "approve", epoch: EPOCH - 1, amendment: "ef".repeat(32) }),
    verdict: "accept",
  },
  {
    rule: "an approval from a non-member",
    message: () => sign(E, { kind: "approve", epoch: EPOCH, amendment: "ef".repeat(32) }),
    verdict: "reject",
    reason: "not-member",
  },
  {
    rule: "a plan under terms that are not an amendment of the current ones",
    message: () => propose(proposerOf(0), 0, plan({ terms: amended({ amends: OTHER }) })),
    verdict: "reject",
    reason: "bad-plan",
  },
  {
    // Ranges are the decoder's (the contract schema, message-codec.test.ts); what else may change is this.
    rule: "a plan whose terms change more than capacities and fees (maxRounds)",
    message: () => propose(proposerOf(0), 0, plan({ terms: amended({ maxRounds: 2 ** 53 - 1 }) })),
    verdict: "reject",
    reason: "bad-plan",
  },
  {
    rule: "a plan that takes up a valid amendment",
    message: () => propose(proposerOf(0), 0, plan({ terms: amended() })),
    verdict: "accept",
  },
  // 9. signature
  {
    rule: "a member's demand with another x under its signature",
    message: () => ({ ...demand(A), x: 2 }),
    verdict: "reject",
    reason: "bad-signature",
  },
  {
    rule: "a member's key signing for another id",
    message: () => ({ ...demand(A), agent: B.id }),
    verdict: "reject",
    reason: "bad-signature",
  },
  // 10. equivocation
  {
    rule: "a second, different demand for one slot",
    message: () => demand(A, { x: 2 }),
    state: () => {
      const slots = new SlotBook();
      slots.record(demand(A));
      return state({}, slots);
    },
    verdict: "reject",
    reason: "equivocation",
  },
];

describe("validate (docs/protocol.md §5), one row per rule", () => {
  it.each(rows.map((r) => [r.rule, r] as const))("%s", (_rule, row) => {
    const verdict = validate(row.message(), (row.state ?? state)());
    expect(verdict.verdict).toBe(row.verdict);
    if (verdict.verdict === "accept") {
      expect(verdict.onTrust === true).toBe(row.onTrust === true);
      expect(verdict.held === true).toBe(row.held === true);
    }
    if (row.reason) expect(verdict).toMatchObject({ reason: row.reason });
  });

  it("covers every reject and ignore reason the machine can give", () => {
    const reasons = new Set(rows.map((r) => r.reason).filter(Boolean));
    for (const reason of [
      "wrong-contract",
      "resource-count",
      "duplicate",
      "not-allowed",
      "stale",
      "future",
      "not-member",
      "not-proposer",
      "bad-plan",
      "bad-amendment",
      "price-mismatch",
      "bad-signature",
      "equivocation",
    ])
      expect(reasons.has(reason)).toBe(true);
  });

  it("an equivocation carries both messages as evidence", () => {
    const slots = new SlotBook();
    const first = demand(A);
    slots.record(first);
    const second = demand(A, { x: 3 });
    const verdict = validate(second, state({}, slots));
    expect(verdict).toMatchObject({
      verdict: "reject",
      reason: "equivocation",
      evidence: { first, second, agent: A.id },
    });
  });
});
