import { describe, expect, it } from "vitest";
import type { AgentProfile } from "../src/economics/agent.ts";
import { bestResponse } from "../src/economics/best-response.ts";
import { paperProfiles } from "../src/economics/paper-scenario.ts";
import { solveReference } from "../src/economics/reference-solver.ts";
import type { MachineAction } from "../src/machine/machine-io.ts";
import { NO_BYZANTINE } from "../src/sim/byzantine-member.ts";
import { createInvariantChecker, type Violation } from "../src/sim/invariants.ts";
import { livenessBound } from "../src/sim/liveness.ts";
import { runSchedule, runSeed } from "../src/sim/runner.ts";
import { drawSchedule, MAX_AGENTS, MIN_AGENTS, type Schedule } from "../src/sim/schedule.ts";
import { type SimNode, SimulatedNetwork } from "../src/sim/simulated-network.ts";
import type { Signer } from "../src/wire/agent-key.ts";
import { buildCertificate, type Certificate } from "../src/wire/certificate.ts";
import { type Contract, contractId, contractSchema } from "../src/wire/contract.ts";
import { type AgentId, compareIds } from "../src/wire/ids.ts";
import type {
  CommitMessage,
  DemandMessage,
  JoinMessage,
  Unsigned,
  WireMessage,
} from "../src/wire/messages.ts";
import { signMessage } from "../src/wire/signing.ts";

const contract: Contract = contractSchema.parse({
  name: "sim harness",
  resources: [{ id: "capacity", capacity: 6 }],
  fees: { perUnit: 0.5, fixed: 0 },
  minMembers: 3,
  timeouts: { roundMs: 2_000, announceMs: 200 },
});
const profiles = paperProfiles(3, 5);

/** Three real nodes (keys, machines) whose actions the tests fabricate and feed to a checker. */
function fixture() {
  const net = new SimulatedNetwork({ contract, seed: 7 });
  const signers: Signer[] = profiles.map(() => net.newSigner());
  const nodes: SimNode[] = profiles.map((p, i) => net.addAgent(`n${i}`, p, signers[i]));
  const profileById = new Map<string, AgentProfile>(
    signers.map((s, i) => [s.id, profiles[i] as AgentProfile]),
  );
  const names = new Map<string, string>(signers.map((s, i) => [s.id, `n${i}`]));
  const checker = createInvariantChecker({
    contract,
    profileOf: (id) => profileById.get(id),
    nameOf: (id) => names.get(id) ?? id,
  });
  const observe = (node: SimNode, actions: MachineAction[], at = 100): Violation | null =>
    checker.observe({ type: "tick", at, node, actions })[0] ?? null;
  /** Some node started `epoch` on a plan of `members`: what a certificate's members are held to. */
  const started = (epoch: number, members: readonly Signer[]) => {
    const ids = members.map((s) => s.id).sort(compareIds);
    const plan = { members: ids, deciders: ids, voters: ids, base: null, terms: null, ledger: null };
    const action: MachineAction = {
      type: "epoch-started",
      epoch,
      members: ids,
      base: null,
      plan: { ...plan, cause: ["join"] },
      member: true,
    };
    return observe(nodes[0] as SimNode, [action], 10);
  };
  return { signers, nodes, profileById, observe, checker, started };
}

/** A certificate signed by every given signer over one commit body. */
function certificate(
  signers: readonly Signer[],
  epoch: number,
  prices: number[],
  allocation: (id: string) => number,
  approximate?: "too-slow" | "price-ceiling",
): Certificate {
  const members = signers.map((s) => s.id).sort(compareIds);
  const body = {
    v: 2,
    kind: "commit",
    contract: contractId(contract),
    epoch,
    round: 3,
    members,
    prices,
    allocations: members.map((agent) => ({ agent, x: allocation(agent), footprint: [1] })),
    residual: 0,
    previous: null,
    ...(approximate ? { approximate: true, reason: approximate } : {}),
  } as const;
  const commits = signers.map((s) =>
    signMessage<CommitMessage>({ ...body, agent: s.id } as unknown as Unsigned<CommitMessage>, s),
  );
  return buildCertificate(commits);
}

/** The honest equilibrium of the given agents, as a certificate they all signed. */
function honestCertificate(
  signers: readonly Signer[],
  profileById: Map<string, AgentProfile>,
  epoch: number,
  approximate?: "too-slow" | "price-ceiling",
) {
  const agents = signers.map((s) => ({ id: s.id, ...(profileById.get(s.id) as AgentProfile) }));
  const ref = solveReference({ contract, agents });
  return certificate(
    signers,
    epoch,
    ref.prices,
    (id) => bestResponse(profileById.get(id) as AgentProfile, contract, ref.prices).x,
    approximate,
  );
}

function demand(signer: Signer, x: number): DemandMessage {
  return signMessage<DemandMessage>(
    {
      v: 2,
      kind: "demand",
      contract: contractId(contract),
      agent: signer.id,
      epoch: 0,
      round: 2,
      prices: [0.25],
      x,
      slope: -1,
      footprint: [1],
    },
    signer,
  );
}

describe("the simulator's invariant checker", () => {
  it("I1: one epoch number started with two plans of the same members (other voters)", () => {
    const { signers, nodes, observe } = fixture();
    const ids = signers.map((s) => s.id);
    const started = (voters: AgentId[]): MachineAction => ({
      type: "epoch-started",
      epoch: 1,
      members: ids,
      base: null,
      plan: { members: ids, deciders: ids, voters, base: null, terms: null, ledger: null, cause: ["join"] },
      member: true,
    });
    expect(observe(nodes[0] as SimNode, [started(ids)])).toBeNull();
    const v = observe(nodes[1] as SimNode, [started(ids.slice(0, 2))], 300);
    expect(v).toMatchObject({ invariant: "I1", node: "n1", summary: "epoch 1 started with two plans" });
  });

  it("I1: one epoch number started with two member sets", () => {
    const { signers, nodes, observe } = fixture();
    const [a, b] = nodes as [SimNode, SimNode];
    const ids = signers.map((s) => s.id);
    const started = (members: AgentId[]): MachineAction => ({
      type: "epoch-started",
      epoch: 0,
      members,
      base: null,
      plan: {
        members,
        deciders: [members[0] as AgentId],
        voters: [members[0] as AgentId],
        base: null,
        terms: null,
        ledger: null,
        cause: ["found"],
      },
      member: true,
    });
    expect(observe(a, [started(ids.slice(0, 1))])).toBeNull();
    // The same set again (another node, or after a restart) is fine.
    expect(observe(a, [started(ids.slice(0, 1))], 200)).toBeNull();
    const v = observe(b, [started(ids)], 300);
    expect(v).toMatchObject({ invariant: "I1", node: "n1", at: 300 });
    expect(v?.context.join("\n")).toContain("{n0}");
  });

  it("I2: an agent signs two different demands for one slot (say, across a restart)", () => {
    const { signers, nodes, observe } = fixture();
    const [s0] = signers as [Signer];
    const first = demand(s0, 1.5);
    expect(observe(nodes[0] as SimNode, [{ type: "publish", message: first }])).toBeNull();
    // Publishing the identical message again is no equivocation.
    expect(observe(nodes[0] as SimNode, [{ type: "publish", message: demand(s0, 1.5) }])).toBeNull();
    const v = observe(nodes[0] as SimNode, [{ type: "publish", message: demand(s0, 2.5) }], 900);
    expect(v).toMatchObject({ invariant: "I2", at: 900 });
    expect(v?.summary).toContain("demand/0/2/n0");
  });

  it("I3: two different certificates for one epoch, each valid on its own", () => {
    const { signers, nodes, profileById, observe, started } = fixture();
    started(0, signers.slice(0, 1));
    started(1, signers);
    const solo = honestCertificate(signers.slice(0, 1), profileById, 0);
    const all = honestCertificate(signers, profileById, 0);
    expect(
      observe(nodes[0] as SimNode, [{ type: "certificate", certificate: solo, complete: true }]),
    ).toBeNull();
    // The same certificate again, from another node, is fine; so is the next epoch's.
    expect(
      observe(nodes[1] as SimNode, [{ type: "certificate", certificate: solo, complete: true }]),
    ).toBeNull();
    const next = honestCertificate(signers, profileById, 1);
    expect(
      observe(nodes[1] as SimNode, [{ type: "certificate", certificate: next, complete: true }]),
    ).toBeNull();
    const v = observe(nodes[2] as SimNode, [{ type: "certificate", certificate: all, complete: true }], 500);
    expect(v).toMatchObject({ invariant: "I3", node: "n2" });
    expect(v?.context[0]).toMatch(/members \{n\d,n\d,n\d\}/);
  });

  it("I4: a certificate that verifies but whose prices are not the reference equilibrium", () => {
    const { signers, nodes, profileById, observe, started } = fixture();
    started(0, signers);
    const honest = honestCertificate(signers, profileById, 0);
    const p = honest.commit.prices[0] as number;
    expect(p).toBeGreaterThan(0);
    // Every member signed, the allocation clears the capacity, but at prices 10% too high.
    const shifted = [p * 1.1];
    const total = signers.reduce(
      (sum, s) => sum + bestResponse(profileById.get(s.id) as AgentProfile, contract, shifted).x,
      0,
    );
    const scale = contract.resources[0]?.capacity ?? 0;
    const forged = certificate(signers, 0, shifted, (id) => {
      const x = bestResponse(profileById.get(id) as AgentProfile, contract, shifted).x;
      return (x * scale) / total;
    });
    const v = observe(nodes[0] as SimNode, [{ type: "certificate", certificate: forged, complete: true }]);
    expect(v).toMatchObject({ invariant: "I4" });
    expect(v?.summary).toContain("best response");
  });

  it("I4: a certificate that does not verify offline", () => {
    const { signers, nodes, profileById, observe, started } = fixture();
    started(0, signers);
    const honest = honestCertificate(signers, profileById, 0);
    const broken: Certificate = {
      ...honest,
      signatures: honest.signatures.map((s, i) =>
        i === 0 ? { ...s, sig: honest.signatures[1]?.sig ?? s.sig } : s,
      ),
    };
    const v = observe(nodes[0] as SimNode, [{ type: "certificate", certificate: broken, complete: true }]);
    expect(v).toMatchObject({ invariant: "I4" });
    expect(v?.summary).toContain("does not verify offline");
  });

  it("I4: an approximate certificate without a fixed fee, unless at the price ceiling", () => {
    const { signers, nodes, profileById, observe, started } = fixture();
    started(0, signers);
    started(1, signers);
    const ceiling = honestCertificate(signers, profileById, 0, "price-ceiling");
    expect(
      observe(nodes[0] as SimNode, [{ type: "certificate", certificate: ceiling, complete: true }]),
    ).toBeNull();
    const slow = honestCertificate(signers, profileById, 1, "too-slow");
    const v = observe(nodes[0] as SimNode, [{ type: "certificate", certificate: slow, complete: true }]);
    expect(v).toMatchObject({ invariant: "I4" });
    expect(v?.summary).toContain("is approximate (reason too-slow");
  });

  it("I4: an approximate certificate rationed to fit capacity passes, with the rationing's own factor only", () => {
    const { signers, nodes, profileById, observe, started } = fixture();
    started(0, signers);
    started(1, signers);
    const x = (id: string) => bestResponse(profileById.get(id) as AgentProfile, contract, [0]).x;
    const supply = signers.reduce((sum, s) => sum + x(s.id), 0);
    const capacity = contract.resources[0]?.capacity ?? 0;
    expect(supply).toBeGreaterThan(capacity);
    const factor = capacity / supply;
    const rationed = certificate(signers, 0, [0], (id) => x(id) * factor, "price-ceiling");
    expect(
      observe(nodes[0] as SimNode, [{ type: "certificate", certificate: rationed, complete: true }]),
    ).toBeNull();
    const skewed = certificate(signers, 1, [0], (id) => x(id) * factor * 0.9, "price-ceiling");
    const v = observe(nodes[0] as SimNode, [{ type: "certificate", certificate: skewed, complete: true }]);
    expect(v).toMatchObject({ invariant: "I4" });
    expect(v?.summary).toContain("rationed");
  });

  it("I4: a certificate whose members are not its epoch's plan's, or for an epoch nobody started", () => {
    const { signers, nodes, profileById, observe, started } = fixture();
    const all = honestCertificate(signers, profileById, 0);
    expect(
      observe(nodes[0] as SimNode, [{ type: "certificate", certificate: all, complete: true }]),
    ).toMatchObject({
      invariant: "I4",
      summary: "certificate for epoch 0, which no node started",
    });
    started(0, signers.slice(0, 2));
    const v = observe(nodes[0] as SimNode, [{ type: "certificate", certificate: all, complete: true }]);
    expect(v).toMatchObject({ invariant: "I4" });
    expect(v?.summary).toContain("names other members than the epoch's plan");
  });

  it("S1: a storm of membership messages from one agent", () => {
    const { signers, nodes, observe } = fixture();
    const [s0] = signers as [Signer];
    const join = (seq: number) =>
      signMessage<JoinMessage>(
        { v: 2, kind: "join", contract: contractId(contract), agent: s0.id, epoch: 0, seq },
        s0,
      );
    // A join every 10 ms for a second is a storm; the same count spread over two seconds is not.
    let v: Violation | null = null;
    for (let i = 0; i < 100; i++)
      v ??= observe(nodes[0] as SimNode, [{ type: "publish", message: join(i) }], i * 20);
    expect(v).toBeNull();
    for (let i = 100; i <= 200; i++)
      v ??= observe(nodes[0] as SimNode, [{ type: "publish", message: join(i) }], 2_000 + (i - 100) * 9);
    expect(v).toMatchObject({ invariant: "S1" });
  });

  it("R1: a node rejects a message an honest agent signed; not when it was injected", () => {
    const { signers, nodes, checker } = fixture();
    const [s0] = signers as [Signer];
    const join = signMessage<JoinMessage>(
      { v: 2, kind: "join", contract: contractId(contract), agent: s0.id, epoch: 0, seq: 1 },
      s0,
    );
    const rejected = (honestAuthor: boolean) =>
      checker.observe({
        type: "deliver",
        at: 50,
        node: nodes[1] as SimNode,
        from: honestAuthor ? "n0" : "outside",
        via: "gossip",
        message: join,
        verdict: { verdict: "reject", reason: "not-member", detail: "made up" },
        honestAuthor,
        forged: false,
        actions: [],
      })[0] ?? null;
    expect(rejected(false)).toBeNull();
    const v = rejected(true);
    expect(v).toMatchObject({ invariant: "R1", node: "n1" });
    expect(v?.summary).toContain("n1 rejected n0's join for epoch 0 (gossip from n0): not-member");
  });

  it("R1's exemptions: injected messages and a lying member's are not an honest author's", () => {
    const net = new SimulatedNetwork({
      contract,
      seed: 3,
      observer: (e) => {
        if (e.type !== "deliver") return;
        const key = e.from === "outside" ? "injected" : e.message.agent === liar.id ? "liar" : "honest";
        seen.set(key, [...(seen.get(key) ?? []), e.honestAuthor]);
      },
    });
    const seen = new Map<string, boolean[]>();
    const liar = net.newSigner();
    net.addAgent("n0", profiles[0] as AgentProfile, liar, undefined, (d) => ({ x: d.x, slope: 0 }));
    const honest = profiles.slice(1).map((p, i) => net.addAgent(`n${i + 1}`, p));
    net.runUntil(() => false, 1_000);
    // An honest agent's own message, its signature broken in transit: injected, so exempt.
    const own = honest[0]?.store.find((m) => m.agent === honest[0]?.id) as WireMessage;
    net.inject({ ...own, sig: `${own.sig.startsWith("A") ? "B" : "A"}${own.sig.slice(1)}` });
    net.runUntil(() => false, 5_000);
    expect(new Set(seen.get("honest"))).toEqual(new Set([true]));
    expect(new Set(seen.get("liar"))).toEqual(new Set([false]));
    expect(new Set(seen.get("injected"))).toEqual(new Set([false]));
  });

  it("accepts the honest certificate of the reference equilibrium", () => {
    const { signers, nodes, profileById, observe, started } = fixture();
    started(0, signers);
    const honest = honestCertificate(signers, profileById, 0);
    expect(
      observe(nodes[0] as SimNode, [{ type: "certificate", certificate: honest, complete: true }]),
    ).toBeNull();
  });
});

/** A hand-made schedule: `n` agents started at once, no faults. */
/** The same schedule with every agent started without bootstrap peers (each may found a market). */
function everyoneFounds(schedule: Schedule): Schedule {
  return { ...schedule, agents: schedule.agents.map((a) => ({ ...a, role: "founder" as const })) };
}

function calmSchedule(n: number, minMembers: number): Schedule {
  const c = contractSchema.parse({ ...contract, minMembers, name: "calm" });
  return {
    seed: 0,
    contract: c,
    allowlist: false,
    network: { latencyMs: 5, jitterMs: 20, loss: 0 },
    networkSeed: 11,
    agents: paperProfiles(n, 3).map((profile, i) => ({
      name: `n${i}`,
      start: i * 10,
      role: i === 0 ? "founder" : "joiner",
      profile,
    })),
    faults: [],
    byzantine: NO_BYZANTINE,
  };
}

describe("a node's link-up delay (a live node's first join reaches no one)", () => {
  /** n0..n2 started at 0, each alone until its drawn link-up; what each sends and hears, when. */
  function run(faults: (net: SimulatedNetwork) => void) {
    const log: { at: number; type: string; node: string; from?: string }[] = [];
    const linkAt = new Map<string, number>();
    const net = new SimulatedNetwork({
      contract,
      seed: 11,
      linkUp: { fraction: 1, maxMs: 400 },
      observer: (e) => {
        if (e.type === "start" && e.linkAt !== undefined) linkAt.set(e.node.name, e.linkAt);
        if (e.type === "deliver" || e.type === "link-up" || e.type === "tick")
          log.push({
            at: e.at,
            type: e.type,
            node: e.node.name,
            ...(e.type === "deliver" ? { from: e.from } : {}),
          });
      },
    });
    for (const [i, p] of profiles.entries()) net.addAgent(`n${i}`, p);
    faults(net);
    net.runUntil(() => false, 3_000);
    return { log, linkAt, net };
  }

  it("a node neither sends nor hears before its link-up, then is told `linked` and joins the market", () => {
    const { log, linkAt, net } = run(() => {});
    expect(linkAt.size).toBe(3);
    for (const [name, at] of linkAt) {
      expect(
        log.filter((e) => e.type === "deliver" && e.at < at && (e.node === name || e.from === name)),
      ).toEqual([]);
      const i = log.findIndex((e) => e.type === "link-up" && e.node === name);
      expect(log[i]?.at).toBe(at);
    }
    // The last to link up is told so (a tick at that instant, its `linked`), and all go on together.
    const last = Math.max(...linkAt.values());
    const name = [...linkAt].find(([, at]) => at === last)?.[0];
    expect(log.some((e) => e.type === "tick" && e.node === name && e.at === last)).toBe(true);
    expect(net.nodes.every((n) => n.machine.status().members.length === 3)).toBe(true);
  });

  it("a heal does not link a node still waiting for its link-up", () => {
    const { log, linkAt } = run((net) => {
      net.advanceTo(1);
      net.partition([[{ name: "n0" }], [{ name: "n1" }, { name: "n2" }]]);
      net.advanceTo(2);
      net.heal();
    });
    // Nor is it told `linked` at the heal (a tick at that instant), only at its own link-up.
    expect(log.filter((e) => e.type === "tick" && e.at === 2 && (linkAt.get(e.node) ?? 0) > 2)).toEqual([]);
    for (const [name, at] of linkAt)
      expect(
        log.filter((e) => e.type === "deliver" && e.at < at && (e.node === name || e.from === name)),
      ).toEqual([]);
  });

  it("replays exactly: the same seed draws the same link-ups", () => {
    expect([...run(() => {}).linkAt]).toEqual([...run(() => {}).linkAt]);
  });
});

describe("the simulator's runner", () => {
  it("a seed replays identically: same trace, same hash; another seed differs", () => {
    // Two seeds with faults and loss.
    for (const seed of [3, 4]) {
      const a = runSeed(seed, { trace: true });
      const b = runSeed(seed, { trace: true });
      expect(a.events).toBeGreaterThan(50);
      expect(b.traceHash).toBe(a.traceHash);
      expect(b.trace).toEqual(a.trace);
      expect(b.violations).toEqual(a.violations);
      // Without keeping the lines, the hash is the same: tracing does not change the run.
      expect(runSeed(seed).traceHash).toBe(a.traceHash);
      expect(runSeed(seed + 1).traceHash).not.toBe(a.traceHash);
    }
  });

  it("seeds that once failed pass: 1197 (a join's later epoch unheeded), 17031 (a replayed node signed a second proposal), 15865 (joiners behind epochs decided by strangers), 4200 (the audit took a second equilibrium under a fixed fee for a wrong price)", () => {
    // Their schedules depend on the protocol's timing, so they guard their bugs only while the
    // timing holds; 1197's and 15865's rules also have focused tests in catch-up.test.ts.
    // 4200 draws an equivocator since Byzantine members are drawn (byzantine-member.ts): it is run
    // as it was drawn when it was pinned, and as drawn now (it failed P1 until docs/protocol.md
    // §5.1 excluded a proven equivocator).
    // Not starved (15865 draws a starved network since they are drawn), every joiner bootstrapping
    // from the founder (17031 draws others since they are drawn): as when they were pinned.
    for (const seed of [1197, 17031, 15865, 4200])
      expect(
        runSeed(seed, { byzantine: false, starved: false, bootstrapDraw: false }).violation,
        `seed ${seed}`,
      ).toBeNull();
    expect(runSeed(4200).violation).toBeNull();
  });

  it("seed 23 reaches liveness: of two members, the leaver stays until the other holds the epoch without it", () => {
    // The leaver's accept, the majority it saw, was lost by gossip; it went at once, and the other
    // member, its only other voter gone, could never decide (counted as no live majority).
    const r = runSeed(23);
    expect(r.violation).toBeNull();
    expect(r.liveness.status).toBe("held");
  });

  it("--keep-going runs on past the first violation and records the others", () => {
    // A misconfiguration the protocol cannot prevent: every node started without bootstrap peers
    // founds a market of its own before it hears the others (messages take 400 ms).
    const fork = { ...everyoneFounds(calmSchedule(3, 1)), network: { latencyMs: 400, jitterMs: 0, loss: 0 } };
    const first = runSchedule(fork);
    const all = runSchedule(fork, { keepGoing: true });
    // The forks' certificates come in the same events as the epochs that conflict: all reported,
    // (P1, which also reported the forks' different commit bodies, is gone: X1 replaced it).
    expect(first.violations.map((v) => v.invariant)).toEqual(["I1", "I3"]);
    expect(first.violations[1]?.at).toBe(first.violation?.at);
    // Going on, the run also finds that the markets never merge.
    expect(all.violations.slice(0, 2)).toEqual(first.violations);
    expect(all.violations.map((v) => v.invariant)).toContain("liveness");
    expect(all.events).toBeGreaterThan(first.events);
  });

  it("a calm schedule (everyone starts together, minMembers = everyone, no faults) passes, liveness within the bound", () => {
    const schedule = calmSchedule(4, 4);
    const r = runSchedule(schedule, { trace: true });
    expect(r.violation).toBeNull();
    expect(r.liveness.status).toBe("held");
    if (r.liveness.status === "held")
      expect(r.liveness.afterLastChangeMs).toBeLessThan(livenessBound(schedule));
    expect(r.trace?.some((l) => l.includes("certificate e0"))).toBe(true);
  });

  it("reports liveness when the market cannot form (minMembers above the agent count)", () => {
    const r = runSchedule(calmSchedule(2, 3));
    expect(r.violation).toMatchObject({ invariant: "liveness" });
    expect(r.violation?.context.join("\n")).toContain("joining");
  });

  it("the fork of issue 9 is gone: concurrent starts with minMembers 1 and slow messages make one market", () => {
    // Messages take longer than announceMs (200 ms): under protocol v1 each agent waited, heard no
    // one and founded a market of its own. Now only the founder founds; the others join it.
    const schedule = { ...calmSchedule(3, 1), network: { latencyMs: 400, jitterMs: 0, loss: 0 } };
    const r = runSchedule(schedule);
    expect(r.violation).toBeNull();
    expect(r.liveness.status).toBe("held");
  });

  it("finds a fork when the configuration allows one: every node a founder", () => {
    const r = runSchedule({
      ...everyoneFounds(calmSchedule(3, 1)),
      network: { latencyMs: 400, jitterMs: 0, loss: 0 },
    });
    expect(["I1", "I3"]).toContain(r.violation?.invariant);
    expect(r.violation?.summary).toContain("epoch 0");
  });
});

describe("the simulator's schedules", () => {
  it("an allowlist in about one seed in four, 2-3 resources with random footprints in about one in four", () => {
    const schedules = Array.from({ length: 400 }, (_, i) => drawSchedule(i + 1));
    const allowlisted = schedules.filter((s) => s.allowlist).length;
    const multi = schedules.filter((s) => s.contract.resources.length > 1);
    expect(allowlisted).toBeGreaterThan(60);
    expect(allowlisted).toBeLessThan(140);
    expect(multi.length).toBeGreaterThan(60);
    expect(multi.length).toBeLessThan(140);
    for (const s of multi) {
      expect(s.contract.resources.length).toBeLessThanOrEqual(3);
      for (const a of s.agents) {
        expect(a.profile.footprint).toHaveLength(s.contract.resources.length);
        expect(Math.max(...a.profile.footprint)).toBeGreaterThan(0);
      }
    }
    // One of each, run: the allowlist names exactly the agents, the reference comparison holds.
    const both = schedules.find(
      (s) => s.allowlist && s.contract.resources.length > 1 && s.agents.length <= 4,
    );
    expect(both).toBeDefined();
    const r = runSchedule(both as Schedule, { trace: true });
    expect(r.violation).toBeNull();
    expect(r.trace?.[0]).toMatch(/resources [23], allowlist/);
  });

  it("draw 2-30 agents, mostly few, every size drawn, faults in time order and consistent", () => {
    const counts = new Map<number, number>();
    let deafSeeds = 0;
    for (let seed = 1; seed <= 4_000; seed++) {
      const s = drawSchedule(seed);
      const n = s.agents.length;
      counts.set(n, (counts.get(n) ?? 0) + 1);
      expect(n).toBeGreaterThanOrEqual(MIN_AGENTS);
      expect(n).toBeLessThanOrEqual(MAX_AGENTS);
      expect(s.agents.filter((a) => a.role === "founder").map((a) => a.name)).toEqual(["n0"]);
      expect(s.network.loss).toBeLessThanOrEqual(0.3);
      const times = s.faults.map((f) => f.at);
      expect(times).toEqual([...times].sort((x, y) => x - y));
      const crashed = new Set<string>();
      const deaf = new Set<string>();
      if (s.faults.some((f) => f.type === "deaf")) deafSeeds += 1;
      for (const f of s.faults) {
        if (f.type === "crash") crashed.add(f.agent);
        if (f.type === "deaf" && f.deaf) deaf.add(f.agent);
        // Every deaf member hears again.
        if (f.type === "deaf" && !f.deaf) expect(deaf.delete(f.agent)).toBe(true);
        if (f.type === "restart") expect(crashed.delete(f.agent)).toBe(true);
        if ("agent" in f) {
          const start = s.agents.find((a) => a.name === f.agent)?.start ?? Number.POSITIVE_INFINITY;
          expect(f.at).toBeGreaterThanOrEqual(start);
        }
      }
      expect(deaf.size).toBe(0);
    }
    // A deaf member in about one seed in six (of those with faults).
    expect(deafSeeds / 4_000).toBeGreaterThan(0.1);
    expect(deafSeeds / 4_000).toBeLessThan(0.2);
    for (let n = MIN_AGENTS; n <= MAX_AGENTS; n++) expect(counts.get(n) ?? 0).toBeGreaterThan(0);
    const small = [2, 3, 4, 5, 6].reduce((sum, n) => sum + (counts.get(n) ?? 0), 0);
    expect(small / 4_000).toBeGreaterThan(0.7);
  });

  it("the debugging limits hold: --agents and --no-faults", () => {
    for (let seed = 1; seed <= 200; seed++) {
      const s = drawSchedule(seed, { agents: 5, faults: false });
      expect(s.agents).toHaveLength(5);
      expect(s.faults).toEqual([]);
      expect(s.network.loss).toBe(0);
    }
  });
});

describe("a slow member (issue 10: it costs its lateness per round, not a timeout and a new epoch)", () => {
  /** Five agents, one epoch; the virtual time each round took, and the epochs adopted. */
  function run(slowMs: number) {
    const slowContract = contractSchema.parse({ ...contract, minMembers: 5 });
    const net = new SimulatedNetwork({ contract: slowContract, seed: 11, delay: { min: 10, max: 20 } });
    const five = paperProfiles(5, 8);
    const nodes = five.map((p, i) => net.addAgent(`n${i}`, p));
    net.slow(nodes[4] as SimNode, slowMs);
    const closed: number[] = [];
    const epochs = new Set<number>();
    const done = () => nodes.every((n) => n.machine.status().certificate !== null);
    const observer = nodes[0] as SimNode;
    let last = -1;
    net.runUntil(() => {
      const s = observer.machine.status();
      if (s.epoch !== null) epochs.add(s.epoch);
      if (s.round !== null && s.round !== last) {
        closed.push(net.now);
        last = s.round;
      }
      return done();
    }, 120_000);
    const certificate = observer.machine.status().certificate;
    const reference = solveReference({
      contract: slowContract,
      agents: nodes.map((n, i) => ({ id: n.id as string, ...(five[i] as AgentProfile) })),
    });
    return { done: done(), closed, epochs, certificate, reference };
  }

  /** The certificate's prices and allocations are the reference solver's, to 1e-6. */
  function expectReference(r: ReturnType<typeof run>) {
    const commit = r.certificate?.commit;
    expect(commit?.prices).toHaveLength(r.reference.prices.length);
    r.reference.prices.forEach((p, k) => {
      expect(Math.abs((commit?.prices[k] as number) - p) / p).toBeLessThan(1e-6);
    });
    expect(commit?.allocations).toHaveLength(r.reference.allocations.length);
    for (const a of r.reference.allocations) {
      const x = commit?.allocations.find((c) => c.agent === a.agent)?.x ?? Number.NaN;
      expect(Math.abs(x - a.x)).toBeLessThan(1e-6 * Math.max(1, Math.abs(a.x)));
    }
  }

  it("a member 300 ms late adds at most about 300 ms per round, in the same single epoch", () => {
    const fast = run(0);
    const slow = run(300);
    expect(fast.done && slow.done).toBe(true);
    // No timeout fired: one epoch, all five members, the same certified equilibrium.
    expect([...slow.epochs]).toEqual([0]);
    expect(slow.certificate?.commit.members).toHaveLength(5);
    expect(slow.certificate?.commit.prices).toEqual(fast.certificate?.commit.prices);
    // And that equilibrium is the reference solver's on the same five profiles, both runs.
    expectReference(fast);
    expectReference(slow);
    const perRound = (r: { closed: number[] }) =>
      ((r.closed.at(-1) as number) - (r.closed[0] as number)) / (r.closed.length - 1);
    const extra = perRound(slow) - perRound(fast);
    // At most its lateness per round, and no timeout: its demands reach the others 300 ms late,
    // but what it receives is not delayed, so it runs up to a round ahead and its lateness
    // overlaps every other round (observed: +300 ms, +30 ms, alternating).
    expect(extra).toBeGreaterThan(100);
    expect(extra).toBeLessThan(350);
  });
});
