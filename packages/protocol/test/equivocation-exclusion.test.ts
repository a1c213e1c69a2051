import { describe, expect, it } from "vitest";
import { paperProfiles } from "../src/economics/paper-scenario.ts";
import { type AgentMachine, createAgentMachine } from "../src/machine/agent-machine.ts";
import { Convicted, convicts, MAX_CONVICTED } from "../src/machine/conviction.ts";
import { PROBE_ROUNDS_PER_STEP } from "../src/machine/divergence-probe.ts";
import { planDigest, proposerOf } from "../src/machine/epoch-plan.ts";
import { ExclusionPlans } from "../src/machine/exclusion-plans.ts";
import type { Equivocation, MachineAction } from "../src/machine/machine-io.ts";
import { syncAnswer } from "../src/sim/sync-answer.ts";
import { createSigner, type Signer } from "../src/wire/agent-key.ts";
import { type AgentId, compareIds } from "../src/wire/ids.ts";
import { decodeMessage, encodeMessage } from "../src/wire/message-codec.ts";
import {
  type AcceptMessage,
  type CommitMessage,
  type DemandMessage,
  type EpochPlan,
  type EquivocationProof,
  type JoinMessage,
  PROTOCOL_VERSION,
  type ProposeMessage,
  type Unsigned,
  type WireMessage,
} from "../src/wire/messages.ts";
import { signMessage } from "../src/wire/signing.ts";
import {
  HAND_BUILT_BASE,
  HAND_BUILT_ROUND_MS,
  handBuiltMarket,
  soloFoundingPlan,
  sortedIds,
} from "./decision-messages.ts";
import { signedDemand } from "./signed-demand.ts";

/**
 * docs/protocol.md §5.1, with hand-built messages: a member's two signed demands for one round
 * get it proposed out and the proof relayed; a price mismatch alone asks for the demands of the
 * epoch's earlier rounds and never costs anyone their place; a proof about an outsider or an old epoch does nothing.
 */

const ROUND_MS = HAND_BUILT_ROUND_MS;
const BASE = HAND_BUILT_BASE;
const market = handBuiltMarket("equivocation exclusion");
const { contract, cid: CID } = market;

const founder = createSigner(new Uint8Array(32).fill(1));
/** Epoch 1's members, sorted: they decide epoch 2, whose view-0 proposer is `me`. */
const members = [2, 3, 4, 5]
  .map((i) => createSigner(new Uint8Array(32).fill(i)))
  .sort((a, b) => compareIds(a.id, b.id));
const memberIds = members.map((s) => s.id);
const me = members.find((s) => s.id === proposerOf(2, 0, memberIds)) as Signer;
const [liar, honest] = members.filter((s) => s !== me) as [Signer, Signer];
const ids = sortedIds;

function propose(epoch: number, plan: EpochPlan, signer: Signer = founder): ProposeMessage {
  return market.propose(epoch, plan, signer);
}

const { accept } = market;

function join(signer: Signer, epoch: number): JoinMessage {
  return signMessage<JoinMessage>(
    {
      v: PROTOCOL_VERSION,
      kind: "join",
      contract: CID,
      agent: signer.id,
      epoch,
      seq: 1,
    } as Unsigned<JoinMessage>,
    signer,
  );
}

function demand(
  signer: Signer,
  round: number,
  prices: readonly number[],
  x: number,
  epoch = 1,
): DemandMessage {
  return signedDemand(CID, signer, epoch, round, prices, x);
}

/**
 * `me` in epoch 1 ({me, liar, honest, fourth}, all voters, from base prices BASE), decided by the
 * founder alone as epoch 0's only voter; returns the machine and the clock.
 */
function inEpoch1(signer: Signer = me, restored: readonly EquivocationProof[] = []): AgentMachine {
  const machine = createAgentMachine({ contract, signer, profile: paperProfiles(1, 3)[0], now: 0 });
  // A restart hands the node's conviction record over before the replay (docs/protocol.md §10).
  if (restored.length > 0) machine.handle({ type: "convicted", now: 0, proofs: restored });
  const epoch0 = soloFoundingPlan(founder);
  const epoch1: EpochPlan = {
    members: memberIds,
    deciders: ids(founder),
    voters: memberIds,
    base: { epoch: 0, round: 0, prices: BASE },
    terms: null,
    ledger: null,
    cause: ["join"],
  };
  deliver(machine, propose(0, epoch0), 10);
  deliver(machine, propose(1, epoch1), 20);
  expect(machine.status()).toMatchObject({ epoch: 1, member: true, round: 0 });
  return machine;
}

/** A node that knows no epoch yet, its agent's key made from `fill`. */
function newcomerMachine(fill: number): AgentMachine {
  const signer = createSigner(new Uint8Array(32).fill(fill));
  return createAgentMachine({ contract, signer, profile: paperProfiles(1, 3)[0], now: 0 });
}

function deliver(machine: AgentMachine, m: WireMessage, now: number): MachineAction[] {
  expect(machine.check(m).verdict).toBe("accept");
  return machine.handle({ type: "message", now, message: m });
}

const proposals = (actions: readonly MachineAction[]) =>
  actions.flatMap((a) => (a.type === "publish" && a.message.kind === "propose" ? [a.message] : []));
const relays = (actions: readonly MachineAction[]) =>
  actions.flatMap((a) => (a.type === "relay" ? [a.message] : []));
const syncs = (actions: readonly MachineAction[]) => actions.filter((a) => a.type === "sync");

/** Closes round 0 with every member's demand (the machine's own went out at the epoch's start). */
function closeRound0(machine: AgentMachine): readonly number[] {
  let now = 30;
  for (const s of members) if (s !== me) deliver(machine, demand(s, 0, BASE, 1), now++);
  const status = machine.status();
  expect(status.round).toBe(1);
  return status.prices;
}

describe("equivocation: proof, spreading, exclusion (docs/protocol.md §5.1)", () => {
  it("two signed demands of a member for one round: both relayed once, and the next epoch proposed without it", () => {
    const machine = inEpoch1();
    const first = demand(liar, 0, BASE, 1);
    const second = demand(liar, 0, BASE, 1.5);
    deliver(machine, first, 30);
    const verdict = machine.check(second);
    expect(verdict).toMatchObject({ verdict: "reject", reason: "equivocation" });
    const actions = machine.handle({ type: "tick", now: machine.nextDeadline() });
    expect(relays(actions)).toEqual([first, second]);
    const [p] = proposals(actions);
    expect(p?.epoch).toBe(2);
    expect(p?.plan.members).toEqual(memberIds.filter((id) => id !== liar.id));
    expect(p?.plan.cause).toContain("equivocation");
    // The proof travels with the plan (plan-proofs.ts): every decider that validates it convicts.
    expect(p?.plan.proofs).toEqual([[first, second]]);
    // From the epoch's start prices, which every member agreed on; not the split round's.
    expect(p?.plan.base).toEqual({ epoch: 1, round: 0, prices: BASE });
    // The same proof again (a flood of the twin): nothing more relayed.
    for (let i = 0; i < 20; i++) machine.check(second);
    expect(relays(machine.handle({ type: "tick", now: 40 }))).toEqual([]);
  });

  it("an excluded equivocator is never admitted again; another joiner is", () => {
    const machine = inEpoch1();
    deliver(machine, demand(liar, 0, BASE, 1), 30);
    machine.check(demand(liar, 0, BASE, 1.5));
    const [p] = proposals(machine.handle({ type: "tick", now: 31 }));
    // The other deciders accept: a majority of epoch 1's four voters with this node.
    for (const s of members.filter((x) => x !== me && x !== liar))
      deliver(
        machine,
        signMessage<AcceptMessage>(
          {
            v: PROTOCOL_VERSION,
            kind: "accept",
            contract: CID,
            agent: s.id,
            epoch: 2,
            view: 0,
            plan: planDigest(2, (p as ProposeMessage).plan),
          } as Unsigned<AcceptMessage>,
          s,
        ),
        40,
      );
    expect(machine.status()).toMatchObject({ epoch: 2, members: memberIds.filter((id) => id !== liar.id) });
    const newcomer = createSigner(new Uint8Array(32).fill(9));
    for (const s of [liar, newcomer])
      deliver(
        machine,
        signMessage<JoinMessage>(
          {
            v: PROTOCOL_VERSION,
            kind: "join",
            contract: CID,
            agent: s.id,
            epoch: 2,
            seq: 1,
          } as Unsigned<JoinMessage>,
          s,
        ),
        50,
      );
    expect(machine.status().pendingJoins).toEqual([newcomer.id]);
  });

  it("a price mismatch alone asks for the round's demands (once per half timeout), and excludes no one", () => {
    const machine = inEpoch1();
    const p1 = closeRound0(machine);
    const other = [(p1[0] as number) + 1];
    // A flood of mismatching round-1 demands from an honest member (it closed round 0 elsewhere).
    for (let i = 0; i < 50; i++)
      expect(machine.check(demand(honest, 1, other, 1 + i))).toMatchObject({ reason: "price-mismatch" });
    const actions = machine.handle({ type: "tick", now: 100 });
    const asked = syncs(actions);
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatchObject({
      type: "sync",
      want: { type: "messages", epoch: 1, round: 0, kinds: ["demand"] },
    });
    const want = (asked[0] as Extract<MachineAction, { type: "sync" }>).want as unknown as {
      from: AgentId[];
    };
    expect(want.from[0]).toBe(honest.id);
    expect([...want.from].sort(compareIds)).toEqual(memberIds.filter((id) => id !== me.id));
    expect(proposals(actions)).toEqual([]);
    expect(relays(actions)).toEqual([]);
    expect(machine.status().decision).toBeNull();
    // Half a round timeout later, a mismatch asks again.
    machine.check(demand(honest, 1, other, 99));
    expect(syncs(machine.handle({ type: "tick", now: 100 + ROUND_MS / 2 }))).toHaveLength(1);
  });

  it("a mismatching demand that does not verify is a bad signature and asks for nothing (a keyless attacker steers no syncs)", () => {
    const machine = inEpoch1();
    const p1 = closeRound0(machine);
    const forged = { ...demand(honest, 1, [(p1[0] as number) + 1], 1), sig: demand(honest, 1, p1, 2).sig };
    // Not `price-mismatch`: that one costs the forwarding peer nothing (the node's gossip ignores it).
    expect(machine.check(forged)).toMatchObject({ verdict: "reject", reason: "bad-signature" });
    expect(syncs(machine.handle({ type: "tick", now: 100 }))).toEqual([]);
  });

  it("judging a stored message at restart (replay) sends nothing: no probe", () => {
    const machine = inEpoch1();
    const p1 = closeRound0(machine);
    const other = [(p1[0] as number) + 1];
    expect(machine.check(demand(honest, 1, other, 1), { replay: true })).toMatchObject({
      reason: "price-mismatch",
    });
    expect(syncs(machine.handle({ type: "tick", now: 100 }))).toEqual([]);
  });

  it("the round's demands fetched after a mismatch bring the proof: the sender's version is rejected with evidence", () => {
    const machine = inEpoch1();
    // This node closed round 0 on the liar's first demand; the honest member on its second.
    const p1 = closeRound0(machine);
    machine.check(demand(honest, 1, [(p1[0] as number) + 1], 1));
    machine.handle({ type: "tick", now: 100 });
    const theirs = demand(liar, 0, BASE, 7);
    expect(machine.check(theirs)).toMatchObject({ verdict: "reject", reason: "equivocation" });
    const actions = machine.handle({ type: "tick", now: 101 });
    expect(relays(actions).map((m) => (m as DemandMessage).x)).toEqual([1, 7]);
    expect(proposals(actions)[0]?.plan.members).not.toContain(liar.id);
  });

  /** Closes rounds 0 and 1 on demands over capacity (the prices keep moving), the liar's round-0 one `first`. */
  function closeRounds0And1(machine: AgentMachine, first: DemandMessage): number {
    deliver(machine, first, 30);
    let now = 31;
    for (let round = 0; machine.status().round === round && round < 2; round++) {
      const prices = machine.status().prices;
      for (const s of members)
        if (s !== me && !(s === liar && round === 0)) deliver(machine, demand(s, round, prices, 3), now++);
    }
    expect(machine.status()).toMatchObject({ status: "running", round: 2 });
    return now;
  }

  it("a split at round 0 that shows only at round 2: the probe asks for every earlier round, and the proof results", () => {
    const machine = inEpoch1();
    const first = demand(liar, 0, BASE, 3);
    let now = closeRounds0And1(machine, first);
    // The honest member closed round 0 on the liar's other version; round 1's prices agreed (the
    // newton rule's anchor), round 2's do not: its round-2 demand mismatches.
    const p2 = machine.status().prices;
    expect(machine.check(demand(honest, 2, [(p2[0] as number) + 1], 1))).toMatchObject({
      reason: "price-mismatch",
    });
    // One step of the walk: rounds 1 and 0, newest first, each by name.
    const asked = syncs(machine.handle({ type: "tick", now: now++ })).map(
      (a) => (a as Extract<MachineAction, { type: "sync" }>).want,
    );
    expect(asked).toMatchObject([
      { type: "messages", epoch: 1, round: 1, kinds: ["demand"] },
      { type: "messages", epoch: 1, round: 0, kinds: ["demand"] },
    ]);
    // What the answer brings: the liar's round-0 version this node lacks.
    const second = demand(liar, 0, BASE, 7);
    expect(machine.check(second)).toMatchObject({ verdict: "reject", reason: "equivocation" });
    const actions = machine.handle({ type: "tick", now });
    expect(relays(actions)).toEqual([first, second]);
    expect(proposals(actions)[0]?.plan.members).not.toContain(liar.id);
  });

  it("a flood of mismatching demands over several rounds asks one step (two rounds) per half timeout", () => {
    const machine = inEpoch1();
    let now = closeRounds0And1(machine, demand(liar, 0, BASE, 3));
    const p2 = machine.status().prices;
    const other = [(p2[0] as number) + 1];
    // Round 2 and round 1 mismatches, from every other member, many times over.
    for (let i = 0; i < 30; i++)
      for (const s of members)
        if (s !== me) {
          machine.check(demand(s, 2, other, 1 + i));
          machine.check(demand(s, 1, other, 1 + i));
        }
    expect(syncs(machine.handle({ type: "tick", now: now++ }))).toHaveLength(PROBE_ROUNDS_PER_STEP);
    for (let i = 0; i < 30; i++) machine.check(demand(honest, 2, other, 50 + i));
    expect(syncs(machine.handle({ type: "tick", now }))).toEqual([]);
    // Half a round timeout later (the walk done), a mismatch walks again: a peer asked may have
    // lacked the other version. Only rounds before the open one are the probe's.
    const probed = (actions: readonly MachineAction[]) =>
      syncs(actions).filter(
        (a) => a.type === "sync" && a.want.type === "messages" && (a.want.round ?? 0) < 2,
      );
    const later = now + ROUND_MS / 2;
    machine.handle({ type: "tick", now: later });
    machine.check(demand(honest, 2, other, 99));
    expect(probed(machine.handle({ type: "tick", now: later + 1 }))).toHaveLength(PROBE_ROUNDS_PER_STEP);
  });

  /**
   * Closes rounds 0..`last` on demands over capacity, the liar's round-`split` one `first`; the
   * honest member's node stored, oldest first, the same demands but the liar's other version
   * `second` for that round. The honest member's round-`last`+1 demand then mismatches.
   */
  function splitAt(machine: AgentMachine, split: number, last: number) {
    const peerStore: DemandMessage[] = [];
    let proof: DemandMessage[] = [];
    let now = 30;
    for (let round = 0; round <= last; round++) {
      const prices = machine.status().prices;
      expect(machine.status()).toMatchObject({ status: "running", round });
      for (const s of members) {
        if (s === me) continue;
        const d = demand(s, round, prices, 3);
        deliver(machine, d, now++);
        const other = s === liar && round === split ? demand(liar, round, prices, 7) : d;
        if (other !== d) proof = [d, other];
        peerStore.push(other);
      }
    }
    const next = machine.status().prices;
    expect(machine.status()).toMatchObject({ status: "running", round: last + 1 });
    const mismatch = () => demand(honest, last + 1, [(next[0] as number) + 1], 1 + now++);
    expect(machine.check(mismatch())).toMatchObject({ reason: "price-mismatch" });
    return { peerStore, proof, now, mismatch };
  }

  /**
   * Ticks every half round timeout, answering each probe want from `peerStore` with at most `cap`
   * messages (syncAnswer, as the simulator does), until the proof is relayed or `steps` pass:
   * the rounds each step asked, and what was relayed.
   */
  function walk(
    machine: AgentMachine,
    peerStore: readonly WireMessage[],
    open: number,
    from: number,
    steps: number,
  ) {
    // One want brings two rounds' demands here (16 pages of 256 on the wire): an epoch-wide ask
    // would bring rounds 0 and 1 alone.
    const cap = 2 * (members.length - 1);
    const asked: number[][] = [];
    const relayed: WireMessage[] = [];
    let now = from;
    for (let step = 0; step < steps && relayed.length === 0; step++, now += ROUND_MS / 2) {
      const rounds: number[] = [];
      for (const a of syncs(machine.handle({ type: "tick", now }))) {
        const want = (a as Extract<MachineAction, { type: "sync" }>).want;
        if (want.type !== "messages" || !want.kinds.includes("demand") || want.round === open) continue;
        rounds.push(want.round ?? -1);
        for (const m of syncAnswer(peerStore, want, cap)) machine.check(m);
      }
      asked.push(rounds);
      relayed.push(...relays(machine.handle({ type: "tick", now: now + 1 })));
    }
    return { asked, relayed, now };
  }

  it("a split in a late round of an epoch whose demands overflow what one want brings: the rounds are walked newest first, and the proof results", () => {
    const machine = inEpoch1();
    const { peerStore, proof, now, mismatch } = splitAt(machine, 5, 5);
    const { asked, relayed, now: later } = walk(machine, peerStore, 6, now, 6);
    expect(relayed).toEqual(proof);
    // In one step: the newest rounds first, each by name.
    expect(asked).toEqual([[5, 4]]);
    // The walk ends with the proof: no more rounds asked, even on a fresh mismatch.
    machine.check(mismatch());
    expect(walk(machine, peerStore, 6, later + ROUND_MS, 3).asked).toEqual([[], [], []]);
  });

  it("a split at round 0 of a long epoch: the walk goes on by itself, two rounds per half timeout, down to round 0", () => {
    const machine = inEpoch1();
    const { peerStore, proof, now } = splitAt(machine, 0, 5);
    const { asked, relayed } = walk(machine, peerStore, 6, now, 6);
    expect(asked).toEqual([
      [5, 4],
      [3, 2],
      [1, 0],
    ]);
    expect(relayed).toEqual(proof);
  });

  it("a twin of a demand of a round already closed past the window is still a proof, and is not applied", () => {
    const machine = inEpoch1();
    const first = demand(liar, 0, BASE, 3);
    deliver(machine, first, 30);
    // Rounds close on demands over capacity, so that the prices keep moving and no round settles.
    let now = 31;
    for (let round = 0; machine.status().round === round && round < 3; round++) {
      const prices = machine.status().prices;
      for (const s of members)
        if (s !== me && !(s === liar && round === 0)) deliver(machine, demand(s, round, prices, 3), now++);
    }
    const before = machine.status();
    expect(before).toMatchObject({ status: "running", round: 3 });
    // What a probe for round 0 (a commit naming it as its best round, say) fetches.
    const second = demand(liar, 0, BASE, 7);
    expect(machine.check(second)).toMatchObject({ verdict: "reject", reason: "equivocation" });
    const actions = machine.handle({ type: "tick", now });
    expect(relays(actions)).toEqual([first, second]);
    expect(proposals(actions)[0]?.plan.members).not.toContain(liar.id);
    expect(machine.status()).toMatchObject({ round: before.round, prices: before.prices });
  });
});

describe("equivocation: what counts as a proof to act on (conviction.ts)", () => {
  const d1 = demand(liar, 0, BASE, 1);
  const d2 = demand(liar, 0, BASE, 2);
  const proof = (first: WireMessage, second: WireMessage, agent = liar.id): Equivocation => ({
    agent,
    slot: "s",
    first,
    second,
  });
  const epoch1 = { number: 1, memberSet: new Set(memberIds) };

  it("a current member's two demands of the current epoch at the same prices; never two commits", () => {
    expect(convicts(proof(d1, d2), epoch1)).toBe(true);
    // Two demands for one slot at different prices: what an honest node restarted into a round an
    // equivocator split can sign (protocol §10), so no proof to act on.
    const elsewhere = BASE.map((p) => p + 1);
    expect(convicts(proof(demand(liar, 0, BASE, 1), demand(liar, 0, elsewhere, 1)), epoch1)).toBe(false);
    const commit = (x: number) =>
      signMessage<CommitMessage>(
        {
          v: PROTOCOL_VERSION,
          kind: "commit",
          contract: CID,
          agent: liar.id,
          epoch: 1,
          round: 0,
          members: memberIds,
          prices: BASE,
          allocations: [{ agent: liar.id, x, footprint: [1] }],
          residual: 0,
          previous: null,
        } as unknown as Unsigned<CommitMessage>,
        liar,
      );
    expect(convicts(proof(commit(1), commit(2)), epoch1)).toBe(false);
  });

  it("not an outsider, not an old epoch, not before any epoch, not a mismatched pair", () => {
    const outsider = createSigner(new Uint8Array(32).fill(9));
    expect(
      convicts(proof(demand(outsider, 0, BASE, 1), demand(outsider, 0, BASE, 2), outsider.id), epoch1),
    ).toBe(false);
    expect(convicts(proof(demand(liar, 0, BASE, 1, 0), demand(liar, 0, BASE, 2, 0)), epoch1)).toBe(false);
    expect(convicts(proof(d1, d2), null)).toBe(false);
    // A proof naming an agent other than the messages' signer (a forged proof object) convicts no one.
    expect(convicts(proof(d1, d2, honest.id), epoch1)).toBe(false);
  });

  it("the convicted set is bounded", () => {
    const c = new Convicted();
    const against = (agent: string) => ({ ...proof(d1, d2), agent: agent as AgentId });
    for (let i = 0; i < MAX_CONVICTED + 10; i++) c.add(against(`k${i}`));
    expect(c.size).toBe(MAX_CONVICTED);
    expect(c.has("k0" as AgentId)).toBe(false);
    expect(c.add(against(`k${MAX_CONVICTED + 9}`))).toBe(false);
  });
});

describe("equivocation: the proof travels in the plan that drops the member (plan-proofs.ts)", () => {
  const d1 = demand(liar, 0, BASE, 1);
  const d2 = demand(liar, 0, BASE, 1.5);
  const withoutLiar = memberIds.filter((id) => id !== liar.id);
  /** What `me`, epoch 2's view-0 proposer, proposes once it holds the proof. */
  const plan = (proofs: EpochPlan["proofs"], cause: EpochPlan["cause"] = ["equivocation"]): EpochPlan => ({
    members: withoutLiar,
    deciders: memberIds,
    voters: withoutLiar,
    base: { epoch: 1, round: 0, prices: BASE },
    terms: null,
    ledger: null,
    cause,
    ...(proofs ? { proofs } : {}),
  });

  it("a node that never saw either version convicts from the plan, and never admits the agent again", () => {
    const machine = inEpoch1(honest);
    const p = propose(2, plan([[d1, d2]]), me);
    const verdict = machine.check(p);
    expect(verdict.verdict).toBe("accept");
    const actions = machine.handle({ type: "message", now: 30, message: p });
    expect(actions).toContainEqual(
      expect.objectContaining({
        type: "equivocation",
        evidence: expect.objectContaining({ agent: liar.id }),
      }),
    );
    expect(machine.status().equivocations.map((e) => e.agent)).toEqual([liar.id]);
    // The plan already leaves the liar out: this node is not the one wanting that change.
    const logs = actions.flatMap((a) => (a.type === "log" ? [a.msg] : []));
    expect(logs).toContain("member proven to equivocate by the plan that drops it");
    expect(logs.filter((msg) => msg.includes("wanting the next epoch without it"))).toEqual([]);
    // A majority of epoch 1's four voters: the proposer, this node (its accept went out), one more.
    const third = members.find((s) => s !== me && s !== liar && s !== honest) as Signer;
    deliver(machine, accept(third, 2, p.plan), 40);
    expect(machine.status()).toMatchObject({ epoch: 2, members: withoutLiar });
    const newcomer = createSigner(new Uint8Array(32).fill(9));
    for (const s of [liar, newcomer]) deliver(machine, join(s, 2), 50);
    expect(machine.status().pendingJoins).toEqual([newcomer.id]);
  });

  it("a plan with cause equivocation and no proof, or a proof that does not hold, is rejected", () => {
    const machine = inEpoch1(honest);
    const rejected = (bad: EpochPlan) => machine.check(propose(2, bad, me));
    const other = BASE.map((x) => x + 1);
    const forged = { ...d2, sig: d1.sig };
    const cases: [EpochPlan, string][] = [
      [plan(undefined), "needs the proof"],
      [plan([[d1, d2]], ["leave"]), "only a plan with cause equivocation"],
      [plan([[d1, forged]]), "does not verify"],
      [plan([[d1, d1]]), "the same demand twice"],
      [plan([[d1, demand(liar, 0, other, 1)]]), "different prices"],
      [plan([[d1, demand(liar, 1, BASE, 1)]]), "one round"],
      [plan([[d1, demand(honest, 0, BASE, 1)]]), "different agents"],
      [plan([[demand(liar, 0, BASE, 1, 2), demand(liar, 0, BASE, 2, 2)]]), "an epoch before 2"],
      [{ ...plan([[d1, d2]]), members: memberIds, voters: memberIds }, "stays a member"],
    ];
    for (const [bad, detail] of cases) {
      const verdict = rejected(bad);
      expect(verdict).toMatchObject({ verdict: "reject", reason: "bad-proof" });
      expect((verdict as { detail: string }).detail).toContain(detail);
    }
    // None of them convicted anyone.
    expect(machine.status().equivocations).toEqual([]);
  });

  it("a node with no epoch yet convicts from the plan it takes on trust (else it could admit the agent again)", () => {
    const machine = createAgentMachine({ contract, signer: honest, profile: paperProfiles(1, 3)[0], now: 0 });
    deliver(machine, propose(2, plan([[d1, d2]]), me), 10);
    expect(machine.status().equivocations.map((e) => e.agent)).toEqual([liar.id]);
  });

  /** `epoch`'s plan: epoch 1's members and voters again, unless `extra` says otherwise. */
  const later = (epoch: number, extra: Partial<EpochPlan> = {}): EpochPlan => ({
    members: memberIds,
    deciders: memberIds,
    voters: memberIds,
    base: { epoch: epoch - 1, round: 0, prices: BASE },
    terms: null,
    ledger: null,
    // Not `period`: a plan naming it must link to a certificate (protocol §12), and no node here
    // assembles one.
    cause: ["renew"],
    ...extra,
  });
  const proposer3 = members.find((s) => s.id === proposerOf(3, 0, memberIds)) as Signer;

  /**
   * Delivers `held`, a proposal for epoch 3, to a node in epoch 1 and checks it convicts nobody
   * then; then epoch 2 (epoch 1's members again) starts, and the actions of that are returned.
   */
  function holdThenStartEpoch2(held: ProposeMessage): { machine: AgentMachine; started: MachineAction[] } {
    const machine = inEpoch1(honest);
    const actions = deliver(machine, held, 30);
    expect(actions.filter((a) => a.type === "equivocation")).toEqual([]);
    expect(machine.status().equivocations).toEqual([]);
    // A majority of epoch 1's four voters: the proposer, this node (its accept went out), one more.
    const fourth = members.find((s) => s !== me && s !== liar && s !== honest) as Signer;
    const p2 = propose(2, later(2), me);
    deliver(machine, p2, 40);
    const started = deliver(machine, accept(fourth, 2, p2.plan), 50);
    expect(machine.status()).toMatchObject({ epoch: 2, members: memberIds });
    return { machine, started };
  }

  it("a plan held for a later epoch convicts nobody; judged at its epoch, a proof against a non-member is rejected", () => {
    const stranger = createSigner(new Uint8Array(32).fill(9));
    const proofs: EpochPlan["proofs"] = [[demand(stranger, 0, BASE, 1), demand(stranger, 0, BASE, 2)]];
    const held = propose(3, later(3, { cause: ["equivocation"], proofs }), proposer3);
    const { machine, started } = holdThenStartEpoch2(held);
    expect(started).toContainEqual(
      expect.objectContaining({ type: "dropped", reason: "bad-proof", message: held }),
    );
    expect(machine.status().equivocations).toEqual([]);
  });

  it("a held plan whose proof is against a member convicts once judged again at its epoch", () => {
    const held = propose(3, later(3, { ...plan([[d1, d2]]), base: later(3).base }), proposer3);
    const { machine, started } = holdThenStartEpoch2(held);
    expect(started).toContainEqual(
      expect.objectContaining({
        type: "equivocation",
        evidence: expect.objectContaining({ agent: liar.id }),
      }),
    );
    expect(machine.status().equivocations.map((e) => e.agent)).toEqual([liar.id]);
  });

  /** `honest` adopts epoch 2 (the liar dropped, with its proof), then epoch 3 without proofs. */
  function pastTheExclusion(): { machine: AgentMachine; p2: ProposeMessage } {
    const machine = inEpoch1(honest);
    const p2 = propose(2, plan([[d1, d2]]), me);
    deliver(machine, p2, 30);
    const third = members.find((s) => s !== me && s !== liar && s !== honest) as Signer;
    deliver(machine, accept(third, 2, p2.plan), 40);
    const plan3 = later(3, { members: withoutLiar, deciders: withoutLiar, voters: withoutLiar });
    const proposer = members.find((s) => s.id === proposerOf(3, 0, withoutLiar)) as Signer;
    const other = members.find((s) => s !== proposer && s !== liar && s !== honest) as Signer;
    deliver(machine, propose(3, plan3, proposer), 50);
    deliver(machine, accept(other, 3, plan3), 60);
    expect(machine.status()).toMatchObject({ epoch: 3, members: withoutLiar });
    return { machine, p2 };
  }

  /** What a node that knows no epoch gets when it asks `machine` for the current decision. */
  const currentAnswer = (machine: AgentMachine): WireMessage[] => [
    ...machine.exclusionPlans(),
    ...(machine.decisionEvidence(null) ?? []),
  ];

  it("a joiner that never saw the plan gets it with the current decision, and never admits the agent", () => {
    const { machine, p2 } = pastTheExclusion();
    const answer = currentAnswer(machine);
    expect(answer[0]).toEqual(p2);

    const newcomer = createSigner(new Uint8Array(32).fill(9));
    const joiner = createAgentMachine({
      contract,
      signer: newcomer,
      profile: paperProfiles(1, 3)[0],
      now: 0,
    });
    let now = 100;
    for (const m of answer) deliver(joiner, m, now++);
    expect(joiner.status()).toMatchObject({ epoch: 3, members: withoutLiar });
    expect(joiner.status().equivocations.map((e) => e.agent)).toEqual([liar.id]);
    const another = createSigner(new Uint8Array(32).fill(10));
    for (const s of [liar, another]) deliver(joiner, join(s, 3), now++);
    expect(joiner.status().pendingJoins).toEqual([another.id]);
  });

  it("a node that joined after the exclusion passes the plan on: the next joiner, asking only it, never admits the agent", () => {
    const { machine } = pastTheExclusion();
    const join1 = newcomerMachine(9);
    let now = 100;
    for (const m of currentAnswer(machine)) deliver(join1, m, now++);
    expect(join1.status()).toMatchObject({ epoch: 3, members: withoutLiar });
    // It took the plan on trust, the only one it was shown for epoch 2: it serves it on (before,
    // only a plan it validated or adopted itself, and the knowledge died one hop later).
    const served = currentAnswer(join1);
    expect(served).toEqual(currentAnswer(machine));

    const join2 = newcomerMachine(10);
    for (const m of served) deliver(join2, m, now++);
    expect(join2.status().equivocations.map((e) => e.agent)).toEqual([liar.id]);
    deliver(join2, join(liar, 3), now++);
    expect(join2.status().pendingJoins).toEqual([]);
  });

  it("a plan taken on trust is not served when another plan of its epoch came too: an attacker's fake, first at a node with no epoch, does not push out the real one", () => {
    const { machine, p2 } = pastTheExclusion();
    // An attacker with no membership: its throwaway key's two demands are a valid proof, and it
    // signs a plan for epoch 2 as its proposer (two deciders, so that the plan is not decided alone).
    const attacker = createSigner(new Uint8Array(32).fill(20));
    const sybil = createSigner(new Uint8Array(32).fill(21));
    let buddy: Signer | null = null;
    for (let i = 22; i < 80 && !buddy; i++) {
      const b = createSigner(new Uint8Array(32).fill(i));
      if (proposerOf(2, 0, ids(attacker, b)) === attacker.id) buddy = b;
    }
    const pair = ids(attacker, buddy as Signer);
    const fake = propose(
      2,
      {
        members: pair,
        deciders: pair,
        voters: pair,
        base: { epoch: 1, round: 0, prices: BASE },
        terms: null,
        ledger: null,
        cause: ["equivocation"],
        proofs: [[demand(sybil, 0, BASE, 1), demand(sybil, 0, BASE, 2)]],
      },
      attacker,
    );
    // The honest node, in epoch 3, drops it as stale and answers as before.
    expect(machine.check(fake).verdict).toBe("ignore");
    const answer = currentAnswer(machine);
    expect(answer[0]).toEqual(p2);

    // A joiner gets the fake first (gossip, or a hostile answer), then the honest answer.
    const j1 = newcomerMachine(9);
    let now = 100;
    for (const m of [fake, ...answer]) deliver(j1, m, now++);
    expect(j1.status()).toMatchObject({ epoch: 3, members: withoutLiar });
    // Convicting on trust stays: it takes its first plan unchecked as it takes the decision.
    expect(
      j1
        .status()
        .equivocations.map((e) => e.agent)
        .sort(),
    ).toEqual(ids(liar, sybil));
    // Neither plan it took on trust is served on: before the fix it served the fake for epoch 2
    // (the real one pushed out), and a joiner asking it then admitted the liar again.
    const served = currentAnswer(j1);
    expect(served).toEqual(machine.decisionEvidence(null));
    expect(served.map((m) => m.agent)).not.toContain(attacker.id);
  });

  /**
   * An attacker's plan for `epoch`, signed by it as the view-0 proposer of a pair of its own keys,
   * dropping its throwaway key with a valid proof; null when it is not that epoch's proposer.
   */
  function fakePlan(epoch: number): ProposeMessage | null {
    const attacker = createSigner(new Uint8Array(32).fill(20));
    const sybil = createSigner(new Uint8Array(32).fill(21));
    const pair = ids(attacker, createSigner(new Uint8Array(32).fill(22)));
    if (proposerOf(epoch, 0, pair) !== attacker.id) return null;
    const proofs: EpochPlan["proofs"] = [[demand(sybil, 0, BASE, 1, 0), demand(sybil, 0, BASE, 2, 0)]];
    return propose(
      epoch,
      { ...later(epoch, { cause: ["equivocation"], proofs }), members: pair, deciders: pair, voters: pair },
      attacker,
    );
  }
  /** Epoch `epoch`'s plan dropping the liar on the proof d1, d2, proposed by `signer`. */
  const provenPlan = (epoch: number, signer: Signer): ProposeMessage =>
    propose(epoch, later(epoch, { cause: ["equivocation"], proofs: [[d1, d2]] }), signer);
  /** `count` fakes for far epochs, from `from` on. */
  const farFakes = (from: number, count: number): ProposeMessage[] =>
    Array.from({ length: 4 * count }, (_, i) => fakePlan(from + i))
      .filter((m): m is ProposeMessage => m !== null)
      .slice(0, count);

  it("fake plans for far epochs, first at a node with no epoch, do not crowd the real one out", () => {
    const { machine, p2 } = pastTheExclusion();
    const fakes = farFakes(1000, 8);
    const j1 = newcomerMachine(9);
    let now = 100;
    for (const m of [...fakes, ...currentAnswer(machine)]) deliver(j1, m, now++);
    expect(j1.status()).toMatchObject({ epoch: 3, members: withoutLiar });
    // Before the fix the real plan was the lowest of five held, forgotten at once, and j1 served
    // nothing (the fakes, past its epoch, never): a joiner asking it admitted the liar again.
    expect(currentAnswer(j1)).toEqual(currentAnswer(machine));
    expect(j1.exclusionPlans()).toEqual([p2]);
    const join2 = newcomerMachine(10);
    for (const m of currentAnswer(j1)) deliver(join2, m, now++);
    expect(join2.status().equivocations.map((e) => e.agent)).toEqual([liar.id]);
  });

  it("a real plan taken on trust survives fakes: those past the adopted epoch are dropped, and judged plans push out trusted ones first", () => {
    const plans = new ExclusionPlans();
    const real = propose(2, plan([[d1, d2]]), me);
    const [f1, f2, f3, f4, f5, f6] = farFakes(1000, 6) as ProposeMessage[];
    for (const m of [f1, f2, f3, f4, real, f5, f6]) plans.trusted(m as ProposeMessage);
    expect(plans.before(3)).toEqual([real]);
    // Adopting epoch 3 (a plan dropping nobody): the fakes are claims the chain has not reached.
    plans.adopted(3, [propose(3, later(3), proposer3)]);
    expect(plans.before(Number.MAX_SAFE_INTEGER)).toEqual([real]);
    // Judged plans for later epochs are kept (before the fix each was forgotten at once, the
    // fakes' epochs all higher), and past the bound the one taken on trust goes first.
    const judged = [4, 5, 6, 7].map((e) => provenPlan(e, me));
    for (const m of judged.slice(0, 3)) plans.validated(m);
    expect(plans.before(8)).toEqual([real, ...judged.slice(0, 3)]);
    plans.validated(judged[3] as ProposeMessage);
    expect(plans.before(8)).toEqual(judged);
  });

  it("a joiner keeps the newest plans before the epoch it adopts, as a node that judged them does; fakes below the real plan cannot push it out", () => {
    const real = [2, 4, 6, 8].map((e) => provenPlan(e, me));
    const tenth = provenPlan(10, me);
    const joiner = new ExclusionPlans();
    for (const m of real) joiner.trusted(m);
    joiner.adopted(10, [tenth]);
    // A first version evicted trusted plans newest first: it kept 2, 4, 6 and 10 (second review).
    expect(joiner.before(11)).toEqual([...real.slice(1), tenth]);
    // Plans for epochs 1-6 shown first (what they prove does not matter here), then the real one.
    const fakes = [1, 2, 3, 4, 5, 6].map((e) => provenPlan(e, honest));
    const target = new ExclusionPlans();
    const seventh = provenPlan(7, me);
    for (const m of [...fakes, seventh]) target.trusted(m);
    target.adopted(9, [propose(9, later(9), proposer3)]);
    expect(target.before(9).at(-1)).toEqual(seventh);
  });

  it("a plan taken on trust gives way to a judged one, and two different ones for an epoch cancel", () => {
    const plans = new ExclusionPlans();
    const real = propose(2, plan([[d1, d2]]), me);
    const fake = propose(2, plan([[d1, demand(liar, 0, BASE, 3)]]), honest);
    plans.trusted(real);
    plans.trusted(real);
    expect(plans.before(3)).toEqual([real]);
    plans.trusted(fake);
    expect(plans.before(3)).toEqual([]);
    plans.trusted(real);
    expect(plans.before(3)).toEqual([]);
    plans.validated(real);
    expect(plans.before(3)).toEqual([real]);
    plans.trusted(fake);
    expect(plans.before(3)).toEqual([real]);
  });

  it("an epoch's exclusion plan is the message of the decision adopted for it, once adopted", () => {
    const plans = new ExclusionPlans();
    const validated = propose(2, plan([[d1, d2]]), me);
    const adopted = propose(2, plan([[d1, demand(liar, 0, BASE, 3)]]), honest);
    plans.validated(validated);
    plans.validated(adopted);
    expect(plans.before(3)).toEqual([validated]);
    plans.adopted(2, [adopted, accept(honest, 2, adopted.plan)]);
    expect(plans.before(3)).toEqual([adopted]);
    plans.adopted(2, [propose(2, later(2), me)]);
    expect(plans.before(3)).toEqual([]);
  });

  it("catching up by trust on a plan with proofs convicts as validating it would", () => {
    const machine = inEpoch1(honest);
    const held = propose(3, later(3, { ...plan([[d1, d2]]), base: later(3).base }), proposer3);
    let now = 30;
    deliver(machine, held, now++);
    // A majority of its four deciders: the proposer and two accepts (any decider's).
    for (const s of members.filter((s) => s !== proposer3 && s !== honest))
      deliver(machine, accept(s, 3, held.plan), now++);
    // No decision of epoch 2 arrives: after CATCH_UP_ROUNDS round timeouts it adopts epoch 3.
    const caught = machine.handle({ type: "tick", now: now + 3 * ROUND_MS });
    expect(machine.status()).toMatchObject({ epoch: 3, members: withoutLiar });
    expect(caught).toContainEqual(
      expect.objectContaining({
        type: "equivocation",
        evidence: expect.objectContaining({ agent: liar.id }),
      }),
    );
    expect(machine.status().equivocations.map((e) => e.agent)).toEqual([liar.id]);
    deliver(machine, join(liar, 3), now + 3 * ROUND_MS + 1);
    expect(machine.status().pendingJoins).toEqual([]);
  });

  it("restarted with its conviction record, a node proposes the convicted member out (its store alone holds no proof)", () => {
    const machine = inEpoch1(me, [[d1, d2]]);
    expect(machine.status().equivocations.map((e) => e.agent)).toEqual([liar.id]);
    const [p] = proposals(machine.handle({ type: "tick", now: machine.nextDeadline() }));
    expect(p?.epoch).toBe(2);
    expect(p?.plan.members).toEqual(withoutLiar);
    expect(p?.plan.proofs).toEqual([[d1, d2]]);
  });

  it("restarted with its conviction record, a node never admits the convicted agent as a joiner", () => {
    const { machine } = pastTheExclusion();
    const restarted = (proofs: readonly EquivocationProof[]) => {
      const node = newcomerMachine(9);
      node.handle({ type: "convicted", now: 0, proofs });
      // What its store replays: the current decision only (it joined after the exclusion, and
      // the plan it took on trust may be gone: a store lost, or the plan fell out of the answer).
      let now = 100;
      for (const m of machine.decisionEvidence(null) ?? []) deliver(node, m, now++);
      expect(node.status()).toMatchObject({ epoch: 3, members: withoutLiar });
      const another = createSigner(new Uint8Array(32).fill(10));
      for (const s of [liar, another]) deliver(node, join(s, 3), now++);
      return node.status().pendingJoins;
    };
    expect(restarted([[d1, d2]])).toEqual([createSigner(new Uint8Array(32).fill(10)).id]);
    // Without the record the same node admits the liar again.
    expect(restarted([])).toContain(liar.id);
  });

  it("convicting emits the proof for the node to keep, once per agent", () => {
    const machine = inEpoch1(honest);
    const actions = deliver(machine, propose(2, plan([[d1, d2]]), me), 30);
    expect(actions.filter((a) => a.type === "convicted")).toEqual([{ type: "convicted", proof: [d1, d2] }]);
    // Another proof against it (its demand, then a third version at the same prices): recorded
    // as evidence, but the agent is convicted already, and its first proof is the one kept.
    deliver(machine, d1, 40);
    const verdict = machine.check(demand(liar, 0, BASE, 3));
    expect(verdict).toMatchObject({ verdict: "reject", reason: "equivocation" });
    const again = machine.handle({ type: "tick", now: 41 });
    expect(again.filter((a) => a.type === "convicted")).toEqual([]);
  });

  it("a plan with proofs crosses the wire, and a plan without them encodes as before", () => {
    const p = propose(2, plan([[d1, d2]]), me);
    const decoded = decodeMessage(encodeMessage(p));
    expect(decoded.ok && decoded.message).toEqual(p);
    const bare = plan(undefined, ["leave"]);
    expect(Object.keys(bare)).not.toContain("proofs");
    expect(decodeMessage(encodeMessage(propose(2, bare, me))).ok).toBe(true);
  });
});
