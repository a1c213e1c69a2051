import { describe, expect, it } from "vitest";
import { paperProfiles } from "../src/economics/paper-scenario.ts";
import type { MachineAction, Verdict } from "../src/machine/machine-io.ts";
import { createPrng } from "../src/random/prng.ts";
import { BYZANTINE_SHARE, drawByzantine, garbled, twinOf } from "../src/sim/byzantine-member.ts";
import { createInvariantChecker } from "../src/sim/invariants.ts";
import { runSeed } from "../src/sim/runner.ts";
import { drawSchedule } from "../src/sim/schedule.ts";
import { type SimNode, SimulatedNetwork } from "../src/sim/simulated-network.ts";
import { createSigner, type Signer } from "../src/wire/agent-key.ts";
import { type Contract, contractId, contractSchema } from "../src/wire/contract.ts";
import {
  type DemandMessage,
  type EpochPlan,
  PROTOCOL_VERSION,
  type ProposeMessage,
  type Unsigned,
  type WireMessage,
} from "../src/wire/messages.ts";
import { signMessage, verifyMessage } from "../src/wire/signing.ts";

const contract: Contract = contractSchema.parse({
  name: "byzantine harness",
  resources: [{ id: "capacity", capacity: 6 }],
  fees: { perUnit: 0.5, fixed: 0 },
  minMembers: 3,
  timeouts: { roundMs: 2_000, announceMs: 200 },
});

function demand(signer: Signer, x: number, prices = [0.25], round = 2): DemandMessage {
  return signMessage<DemandMessage>(
    {
      v: 2,
      kind: "demand",
      contract: contractId(contract),
      agent: signer.id,
      epoch: 0,
      round,
      prices,
      x,
      slope: -1,
      footprint: [1],
    },
    signer,
  );
}

/** Three real nodes, n1 an equivocator, and a checker told so. */
function fixture() {
  const net = new SimulatedNetwork({ contract, seed: 7 });
  const profiles = paperProfiles(3, 5);
  const signers = profiles.map(() => net.newSigner());
  const nodes = profiles.map((p, i) => net.addAgent(`n${i}`, p, signers[i]));
  const [s0, s1] = signers as [Signer, Signer];
  const checker = createInvariantChecker({
    contract,
    profileOf: () => undefined,
    nameOf: (id) => `n${signers.findIndex((s) => s.id === id)}`,
    equivocators: new Set([s1.id]),
  });
  const deliver = (message: WireMessage, verdict: Verdict, forged = false) =>
    checker.observe({
      type: "deliver",
      at: 50,
      node: nodes[0] as SimNode,
      from: "n1",
      via: "gossip",
      message,
      verdict,
      honestAuthor: false,
      forged,
      actions: [],
    })[0] ?? null;
  return { checker, nodes, s0, s1, deliver };
}

describe("Byzantine members: the draw", () => {
  it("about one seed in nine, an equivocator only with 3 agents or more, never the founder, at most one", () => {
    let drawn = 0;
    const seeds = 4_000;
    for (let seed = 1; seed <= seeds; seed++) {
      const s = drawSchedule(seed, { equivocators: true });
      const acts = s.faults.filter((f) => f.type === "replay" || f.type === "forge");
      const { equivocators } = s.byzantine;
      if (equivocators.length > 0 || acts.length > 0) drawn += 1;
      expect(equivocators.length).toBeLessThanOrEqual(1);
      if (equivocators.length > 0) {
        expect(s.agents.length).toBeGreaterThanOrEqual(3);
        expect(equivocators[0]).not.toBe(s.agents[0]?.name);
      }
      for (const f of acts) {
        const a = s.agents.find((x) => x.name === (f as { agent: string }).agent);
        expect(a && f.at >= a.start).toBe(true);
      }
      // The draw is its own stream: the same seed draws the same, and --no-faults draws none.
      if (seed <= 100) {
        expect(drawSchedule(seed, { equivocators: true })).toEqual(s);
        expect(drawSchedule(seed, { faults: false, equivocators: true }).byzantine.equivocators).toEqual([]);
      }
      // Equivocators are drawn by default; without them the seed draws the same agents and the
      // same replays and forgeries, and still draws something where it drew an equivocator.
      expect(drawSchedule(seed)).toEqual(s);
      const plain = drawSchedule(seed, { equivocators: false });
      expect(plain.byzantine.equivocators).toEqual([]);
      expect(plain.agents).toEqual(s.agents);
      const plainActs = plain.faults.filter((f) => f.type === "replay" || f.type === "forge");
      if (acts.length > 0) expect(plainActs).toEqual(acts);
      else if (equivocators.length > 0) expect(plainActs.length).toBeGreaterThan(0);
    }
    expect(drawn / seeds).toBeGreaterThan(BYZANTINE_SHARE * 0.8);
    expect(drawn / seeds).toBeLessThan(BYZANTINE_SHARE * 1.2);
    expect(drawByzantine(5, [], 1_000).faults).toEqual([]);
  });

  it("an equivocator's twin is a second valid demand for the same slot; a garbled message does not verify", () => {
    const net = new SimulatedNetwork({ contract, seed: 3 });
    const signer = net.newSigner();
    const first = demand(signer, 2);
    const twin = twinOf(signer)(first) as DemandMessage;
    expect(twin).not.toBeNull();
    expect(verifyMessage(twin)).toBe(true);
    expect([twin.epoch, twin.round, twin.prices, twin.agent]).toEqual([
      first.epoch,
      first.round,
      first.prices,
      first.agent,
    ]);
    expect(twin.x).toBe(3);
    const prng = createPrng(9);
    for (let i = 0; i < 30; i++) expect(verifyMessage(garbled(first, prng))).toBe(false);
  });
});

describe("Byzantine members: the invariants", () => {
  it("X1: a node proposes, at view 0, an epoch naming a member it holds a proof against", () => {
    const { checker, nodes, s0, s1 } = fixture();
    const node = nodes[0] as SimNode;
    const members = [s0.id, s1.id].sort();
    const plan = (ids: readonly string[]) =>
      ({
        members: ids,
        deciders: members,
        voters: ids,
        base: { epoch: 1, round: 0, prices: [0] },
        terms: null,
        ledger: null,
        cause: ["equivocation"],
      }) as unknown as EpochPlan;
    const act = (...actions: MachineAction[]) =>
      checker.observe({ type: "tick", at: 10, node, actions })[0] ?? null;
    // Each proposal by another key, so that none is a second signature for a slot (I2).
    let key = 40;
    const propose = (ids: readonly string[], view = 0, by = createSigner(new Uint8Array(32).fill(key++))) =>
      act({
        type: "publish",
        message: signMessage<ProposeMessage>(
          {
            v: PROTOCOL_VERSION,
            kind: "propose",
            contract: contractId(contract),
            agent: by.id,
            epoch: 2,
            view,
            plan: plan(ids),
          } as Unsigned<ProposeMessage>,
          by,
        ),
      });
    expect(
      act({ type: "epoch-started", epoch: 1, members, base: null, plan: plan(members), member: true }),
    ).toBeNull();
    // A proof about another epoch convicts no one.
    const old = (x: number) => ({ ...demand(s1, x), epoch: 0 });
    act({ type: "equivocation", evidence: { agent: s1.id, slot: "s", first: old(1), second: old(2) } });
    expect(propose(members)).toBeNull();
    // Nor, as convicts() rules, do two demands at different prices (an honest re-sign after a
    // split, protocol §5.1), nor two commits: the node may still propose s1, and X1 holds.
    const at = (x: number, prices: number[]) => ({ ...demand(s1, x, prices), epoch: 1 });
    act({
      type: "equivocation",
      evidence: { agent: s1.id, slot: "s", first: at(1, [0.25]), second: at(2, [0.5]) },
    });
    const commit = (x: number) => ({ ...at(x, [0.25]), kind: "commit" }) as unknown as WireMessage;
    act({ type: "equivocation", evidence: { agent: s1.id, slot: "s", first: commit(1), second: commit(2) } });
    expect(propose(members)).toBeNull();
    const now = (x: number) => ({ ...demand(s1, x), epoch: 1 });
    act({ type: "equivocation", evidence: { agent: s1.id, slot: "s", first: now(1), second: now(2) } });
    expect(propose(members)).toMatchObject({ invariant: "X1" });
    expect(propose([s0.id])).toBeNull();
    // A later view may have to carry a plan accepted before (Paxos): not held to X1.
    expect(propose(members, 1)).toBeNull();
  });

  it("E1: a node accepts an equivocator's second message for a slot; rejecting it with evidence is right", () => {
    const { checker, nodes, s0, s1, deliver } = fixture();
    const first = demand(s1, 1);
    const second = twinOf(s1)(first) as DemandMessage;
    // Before the node runs the demand's epoch an accepted message is only held (and may be evicted
    // from a full hold queue, its slot forgotten): another version accepted later is no E1.
    expect(deliver(second, { verdict: "accept" })).toBeNull();
    const members = [s0.id, s1.id].sort();
    const plan = {
      members,
      deciders: members,
      voters: members,
      base: null,
      terms: null,
      ledger: null,
      cause: [],
    };
    checker.observe({
      type: "tick",
      at: 20,
      node: nodes[0] as SimNode,
      actions: [
        {
          type: "epoch-started",
          epoch: first.epoch,
          members,
          base: null,
          plan: plan as unknown as EpochPlan,
          member: true,
        },
      ],
    });
    expect(deliver(first, { verdict: "accept" })).toBeNull();
    const evidence = { agent: s1.id, slot: "x", first, second };
    expect(
      deliver(second, { verdict: "reject", reason: "equivocation", detail: "two", evidence }),
    ).toBeNull();
    expect(deliver(second, { verdict: "reject", reason: "equivocation", detail: "two" })).toMatchObject({
      invariant: "E1",
    });
    expect(deliver(first, { verdict: "ignore", reason: "duplicate", detail: "" })).toBeNull();
    expect(deliver(second, { verdict: "accept" })).toMatchObject({ invariant: "E1" });
  });

  it("F1: a node accepts a forged message", () => {
    const { s0, deliver } = fixture();
    const forged = garbled(demand(s0, 1), createPrng(1));
    expect(deliver(forged, { verdict: "reject", reason: "bad-signature", detail: "" }, true)).toBeNull();
    expect(deliver(forged, { verdict: "accept" }, true)).toMatchObject({ invariant: "F1" });
  });
});

describe("Byzantine members: pinned seeds", () => {
  // Seed 15482: n2 equivocates in epoch 2 {n0, n1, n2}. At 10568.5 ms it sends n0 a second demand
  // for round 3 (x=4.3327 by gossip; n1 gets x=2.8885, by sync); n0 closes round 3 on one, n1 on
  // the other, and round 4's prices differ. Before the rule of docs/protocol.md §5.1 the nodes
  // rejected each other's demands as price-mismatch and never certified again (P1, R1, liveness;
  // found as seed 72, then pinned as seeds 171, 1314 and 402 as the protocol's timing changed, 402
  // from when a joiner took its bootstrap node's own decision by gossip, protocol §9.3, until the
  // first demand ask lost its quarter-timeout floor, protocol §6). Now n1's mismatch on n0's
  // round-4 demand makes it fetch round 3's demands, n0's answer holds the other version (the
  // proof), n1 relays both (it took neither by gossip, so its seen cache holds neither), n0 gets
  // the proof from that relay and relays nothing (it saw both by gossip), and epoch 3 is decided
  // without n2 and certified by n0 and n1. (Seed 402's epoch was decided at view 1, as view 0's
  // proposer was the equivocator; no seed of 1..30000 shows that with this shape, and here n0
  // proposes at view 0.) (Seed 72 was pinned for a split at round 0 that showed only at round 2,
  // found by the walk's second round; since the simulator's catch-ups ask as the node's do, no seed
  // of 1..6000 shows one any more; divergence-probe.test.ts keeps the walk's order.)
  it("seed 15482: the equivocated demand is proven, both versions relayed as seen caches allow, and epoch 3 certifies without n2", () => {
    const r = runSeed(15482, { trace: true, keepGoing: true, equivocators: true });
    const lines = r.trace ?? [];
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    expect(at(/ BYZANTINE equivocate n2 -> \{n0\} demand n2 e2 r3 x=4\.3327/)).toBeGreaterThanOrEqual(0);
    expect(at(/n0<n2 demand n2 e2 r3 x=4\.3327 accept/)).toBeGreaterThanOrEqual(0);
    expect(at(/n1<n2 \(sync\) demand n2 e2 r3 x=2\.8885 accept/)).toBeGreaterThanOrEqual(0);
    const mismatch = at(/n1 dropped price-mismatch demand n0 e2 r4 /);
    expect(mismatch).toBeGreaterThan(0);
    // The divergence probe's walk, first step: round 3, then round 2, each by name.
    expect(lines[mismatch + 1]).toMatch(/^ +n1 sync e2 r3 demand$/);
    expect(lines[mismatch + 2]).toMatch(/^ +n1 sync e2 r2 demand$/);
    const proof = at(/reject:equivocation/);
    expect(proof).toBeGreaterThan(mismatch);
    expect(proof).toBe(at(/n1<n0 \(sync\) demand n2 e2 r3 x=4\.3327 reject:equivocation/));
    expect(at(/n1 equivocation by n2 in demand\/2\/3/)).toBeGreaterThan(proof);
    expect(at(/n1 relay demand n2 e2 r3 x=2\.8885$/)).toBeGreaterThan(proof);
    expect(at(/n1 relay demand n2 e2 r3 x=4\.3327$/)).toBeGreaterThan(proof);
    const second = at(/n0<n1 demand n2 e2 r3 x=2\.8885 reject:equivocation/);
    expect(second).toBeGreaterThan(proof);
    expect(at(/n0 relay demand n2 e2 r3 x=4\.3327 suppressed \(seen cache\)$/)).toBeGreaterThan(second);
    expect(at(/n0 relay demand n2 e2 r3 x=2\.8885 suppressed \(seen cache\)$/)).toBeGreaterThan(second);
    expect(at(/publish propose n0 e3 v0 \{n0,n1\} base e2r0 \[equivocation\]/)).toBeGreaterThan(proof);
    expect(at(/n0 epoch-started e3 \{n0,n1\}/)).toBeGreaterThan(proof);
    expect(at(/n1 certificate e3 .* 2\/2 signed/)).toBeGreaterThan(proof);
    expect(r.violations).toEqual([]);
    expect(r.liveness.status).toBe("held");
  });

  // Seed 25348 (734 before the simulator modelled the sync client's timeout, then 255 until a joiner
  // took its bootstrap node's own decision by gossip, then 999 until the first demand ask lost its
  // quarter-timeout floor, protocol §6; the first seed since to show this shape): capacity does
  // not bind (prices stay 0), so no demand mismatches: the split shows in the commits of epoch 0
  // {n0, n1, n2} (n2 sent n0 a second demand for round 0, n1 the first). n0, settled without a
  // certificate, fetches the commits it lacks: n2's own, of another body (the one n2 closed the
  // round on); then round 0's demands, and n2's own answer is the proof; n0 relays the version it
  // fetched (its seen cache holds the other) and proposes epoch 1 without n2.
  it("seed 25348: a divergent commit body leads to the proof, and epoch 1 certifies without n2", () => {
    const r = runSeed(25348, { trace: true, equivocators: true });
    const lines = r.trace ?? [];
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    expect(at(/dropped price-mismatch/)).toBe(-1);
    const proof = at(/n0<n\d \(sync\) demand n2 e0 r0 .* reject:equivocation/);
    expect(proof).toBeGreaterThan(0);
    const commit = at(/n0<n2 \(sync\) commit n2 e0 r0 /);
    expect(commit).toBeGreaterThan(0);
    expect(lines[commit + 1]).toMatch(/^ +n0 sync e0 r0 demand$/);
    expect(commit).toBeLessThan(proof);
    expect(at(/n0 relay demand n2 e0 r0 x=0\.24178$/)).toBeGreaterThan(proof);
    expect(at(/n0 relay demand n2 e0 r0 x=0\.36267 suppressed \(seen cache\)$/)).toBeGreaterThan(proof);
    expect(at(/publish propose n0 e1 v0 \{n0,n1\} base e0r0 \[equivocation\]/)).toBeGreaterThan(proof);
    expect(at(/n1 certificate e1 .* 2\/2 signed/)).toBeGreaterThan(proof);
    expect(r.violation).toBeNull();
    expect(r.liveness.status).toBe("held");
  });

  // Seed 25243 (348 until a joiner took its bootstrap node's own decision by gossip, protocol §9.3,
  // then 62 until the first demand ask lost its quarter-timeout floor, protocol §6, then 2269 until
  // the quarter came back while catch-up fails; a detector over seeds 1..30,000 found the shape in
  // over a hundred, and 25243 is the closest to 2269: nine agents, n3 of them gone long before by
  // its own leave, a split in epoch 4): n8 splits round 0 of epoch 4 (x=4.2163 to n2, n5 and n6,
  // x=2.8109 to the others). Prices do not bind, so both sides converge and commit, on two
  // bodies, and no demand mismatches. n5 asks for epoch 4's commits and gets n8's whole, on another
  // body than its own: that shows the split and starts the probe, and round 0's demands are the
  // proof. While commits on another body were only ignored (gossip carries them as references to a
  // body the node cannot check), no node ever convicted the splitter (it stayed a member to the end).
  it("seed 25243: commits on another body are fetched whole, and the equivocator is proven and dropped", () => {
    // Every joiner bootstrapping from the founder, as when it was pinned (with the joiners'
    // bootstrap nodes drawn, no node fetches a commit of n8's on another body, nor proves it).
    const r = runSeed(25243, { trace: true, equivocators: true, bootstrapDraw: false });
    const lines = r.trace ?? [];
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    expect(r.schedule.byzantine.equivocators).toEqual(["n8"]);
    expect(at(/dropped price-mismatch/)).toBe(-1);
    const fetched = at(/n5<n8 \(sync\) commit n8 e4 r0 /);
    expect(fetched).toBeGreaterThan(0);
    expect(lines[fetched + 1]).toMatch(/^ +n5 sync e4 r0 demand$/);
    const proof = at(/n5<n\d \(sync\) demand n8 e4 r0 .* reject:equivocation/);
    expect(proof).toBeGreaterThan(fetched);
    expect(at(/n5 equivocation by n8 in demand\/4\/0\/n8/)).toBeGreaterThan(proof);
    expect(
      at(/publish propose n\d e5 v0 \{n1,n5,n6,n0,n4,n2,n7\} base e4r0 \[equivocation\]/),
    ).toBeGreaterThan(proof);
    expect(at(/n\d certificate e5 r\d+ 7\/7 signed/)).toBeGreaterThan(proof);
    expect(r.violations).toEqual([]);
    expect(r.liveness.status).toBe("held");
  });

  // Seed 180 (members of different sizes, sim/schedule.ts drawSpread): n0 leaves and n1, the
  // equivocator, is the only voter of epoch 3 {n1}. It admits the honest n2 (epoch {n1,n2}), splits
  // it, n2 proves it but is no voter yet, n1 finds n2 silent (its demands mismatch) and decides
  // {n1} alone, again and again. No honest majority of voters is left to exclude it (protocol §11),
  // so liveness is not asked, as with a majority lost to crashes; it was reported as a failure.
  it("seed 180: an equivocator that is the only voter is a lost majority, not a liveness failure", () => {
    // Not starved: the run it was pinned for (it draws a starved network since they are drawn).
    const r = runSeed(180, { spread: true, starved: false });
    expect(r.schedule.byzantine.equivocators).toEqual(["n1"]);
    expect(r.violations).toEqual([]);
    expect(r.liveness).toMatchObject({
      status: "exempt",
      reason: expect.stringMatching(/0 of 1 voters alive and honest \(n1\)/),
    });
  });

  it("seed 36: forgeries are delivered and none is accepted; seed 9: replays change nothing", () => {
    const forged = runSeed(36, { trace: true });
    const lines = forged.trace ?? [];
    const deliveries = lines.filter((l) => l.includes(" FORGED "));
    expect(lines.some((l) => l.includes(" BYZANTINE forge "))).toBe(true);
    expect(deliveries.length).toBeGreaterThan(0);
    for (const l of deliveries) expect(l).toMatch(/ (reject|ignore):[a-z-]+$/);
    expect(forged.violation).toBeNull();
    const replayed = runSeed(9, { trace: true });
    expect((replayed.trace ?? []).filter((l) => l.includes(" BYZANTINE replay ")).length).toBeGreaterThan(0);
    expect(replayed.violation).toBeNull();
    expect(replayed.liveness.status).toBe("held");
  });

  // Seed 1740: n2 forges, n0 replays. A forged commit reference held until its epoch settled was
  // released as an honest one, and its bad-signature reject counted against the honest signer (R1).
  it("seed 1740: a forged commit held and released is still a forgery", () => {
    const r = runSeed(1740, { trace: true });
    expect((r.trace ?? []).some((l) => / FORGED commit .* reject:bad-signature$/.test(l))).toBe(true);
    expect(r.violation).toBeNull();
  });
});
