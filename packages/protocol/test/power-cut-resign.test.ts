import { describe, expect, it } from "vitest";
import type { AgentProfile } from "../src/economics/agent.ts";
import { paperScenario } from "../src/economics/paper-scenario.ts";
import { scenarioSchema } from "../src/economics/scenario.ts";
import { type AgentMachine, createAgentMachine } from "../src/machine/agent-machine.ts";
import type { MachineEvent } from "../src/machine/machine-io.ts";
import { SimulatedNetwork } from "../src/sim/simulated-network.ts";
import type { Signer } from "../src/wire/agent-key.ts";
import type { Contract } from "../src/wire/contract.ts";
import type { DemandMessage, WireMessage } from "../src/wire/messages.ts";

/**
 * docs/protocol.md §10: a node's own demands are not fsynced (only the first of each epoch is), so
 * a power cut can lose the newest of them after peers received them. The restarted node replays
 * what its store kept and signs those slots again: it must sign the same bytes, or its peers hold
 * two of its demands for one slot and record an honest node as an equivocator.
 *
 * Each test runs a market until node n0 signed the demand under test, cuts n0's store just before
 * it (the un-fsynced tail is lost), replays the rest into a fresh machine built as the node builds
 * one after a restart (from its bid record), resumes, and compares what it signs for the slot.
 */

interface Market {
  readonly net: SimulatedNetwork;
  readonly contract: Contract;
  readonly signer: Signer;
  readonly profile: AgentProfile;
}

function market(over: Record<string, unknown>, capacity: number): Market {
  const base = paperScenario({ agents: 8, capacity, seed: 3, g: 0, rule: "gradient" });
  const scenario = scenarioSchema.parse({ ...base, contract: { ...base.contract, minMembers: 8, ...over } });
  const net = new SimulatedNetwork({ contract: scenario.contract, seed: 1 });
  const agents = scenario.agents.map((a, i) => {
    const signer = net.newSigner();
    const { id: _id, ...profile } = a;
    net.addAgent(`n${i}`, profile, signer);
    return { signer, profile: profile as AgentProfile };
  });
  const n0 = agents[0] as { signer: Signer; profile: AgentProfile };
  return { net, contract: scenario.contract, ...n0 };
}

const n0Store = (m: Market): WireMessage[] => m.net.node("n0")?.store ?? [];

const ownDemands = (m: Market): DemandMessage[] =>
  n0Store(m).filter((x): x is DemandMessage => x.kind === "demand" && x.agent === m.signer.id);

/** n0 as it restarts on `kept`: built from its bid record, the store replayed, then resumed. */
function restart(
  m: Market,
  kept: readonly WireMessage[],
): { machine: AgentMachine; resumed: DemandMessage[] } {
  const now = m.net.now;
  const machine = createAgentMachine({
    contract: m.contract,
    signer: m.signer,
    bids: m.net.node("n0")?.machine.bids() ?? [],
    founder: m.net.node("n0")?.role === "founder",
    now,
  });
  for (const message of kept)
    if (machine.check(message).verdict === "accept")
      machine.handle({ type: "message", now, message, replay: true });
  const resumed = machine
    .handle({ type: "resume", now })
    .flatMap((a) => (a.type === "publish" && a.message.kind === "demand" ? [a.message] : []));
  return { machine, resumed };
}

/** Cuts n0's store just before its own demand `lost` and checks the restart signs it again, the same. */
function expectSameAfterCut(m: Market, lost: DemandMessage): void {
  const store = n0Store(m);
  const { resumed } = restart(m, store.slice(0, store.indexOf(lost)));
  const again = resumed.find((d) => d.epoch === lost.epoch && d.round === lost.round);
  expect(again, `n0 signs demand ${lost.epoch}/${lost.round} again on resume`).toBeDefined();
  expect(again).toEqual(lost);
}

/** A proximal market (gamma 2) run past round 3, with n0's last three demands. */
function pastRound3() {
  const m = market({ proximal: 2 }, 10);
  expect(m.net.runUntil(() => ownDemands(m).some((d) => d.round >= 3), 120_000)).toBe(true);
  const [last, lostFirst, lostSecond] = ownDemands(m).slice(-3) as [
    DemandMessage,
    DemandMessage,
    DemandMessage,
  ];
  return { m, last, lostFirst, lostSecond };
}

describe("a restart after a power cut signs its lost demands again bit for bit", () => {
  it("under a proximal contract: the anchor (the x signed last) is restored from the stored demands", () => {
    const m = market({ proximal: 2 }, 10);
    expect(m.net.runUntil(() => ownDemands(m).some((d) => d.round >= 2), 120_000)).toBe(true);
    const lost = ownDemands(m).at(-1) as DemandMessage;
    expect(lost.round).toBeGreaterThanOrEqual(2);
    expectSameAfterCut(m, lost);
  });

  it("after a bid change mid-epoch: the epoch's lost demand is made with the bid it started with", () => {
    const m = market({ proximal: 0, period: { ms: 3_600_000 } }, 3);
    expect(m.net.runUntil(() => ownDemands(m).some((d) => d.round >= 2), 60_000)).toBe(true);
    const changedIn = ownDemands(m).at(-1) as DemandMessage;
    const valuation = m.profile.valuation as { alpha: number };
    const richer = {
      ...m.profile,
      valuation: { ...m.profile.valuation, alpha: valuation.alpha * 3 },
    } as AgentProfile;
    const n0 = m.net.node("n0");
    if (!n0) throw new Error("no n0");
    m.net.act(n0, (now): MachineEvent => ({ type: "profile", now, profile: richer }));
    // The new bid waits for the next slot: the epoch keeps the bid it started with.
    expect(m.net.node("n0")?.machine.bids()).toEqual([
      { from: 0, profile: m.profile },
      { from: changedIn.epoch + 1, profile: richer },
    ]);
    const later = (): DemandMessage | undefined =>
      ownDemands(m).find((d) => d.epoch === changedIn.epoch && d.round > changedIn.round);
    expect(m.net.runUntil(() => later() !== undefined, 60_000)).toBe(true);
    expectSameAfterCut(m, later() as DemandMessage);
  });

  it("losing two rounds: the peers' demands fetched again give the same prices, and the same demands", () => {
    const { m, last, lostFirst, lostSecond } = pastRound3();
    expect([lostFirst.round, lostSecond.round]).toEqual([last.round + 1, last.round + 2]);
    expect([lostFirst.epoch, lostSecond.epoch]).toEqual([last.epoch, last.epoch]);
    // Everything after n0's demand of round k − 2 is lost: the peers' demands of k − 2 that came
    // after it, n0's demands of k − 1 and k, and what came with them.
    const store = n0Store(m);
    const kept = store.slice(0, store.indexOf(last) + 1);
    const { machine, resumed } = restart(m, kept);
    const signed: DemandMessage[] = [...resumed];
    // The peers' demands come again by sync (from the peers' stores: the same signed bytes).
    const held = new Set(kept);
    for (const message of store) {
      if (held.has(message) || message.agent === m.signer.id || message.kind !== "demand") continue;
      if (machine.check(message).verdict !== "accept") continue;
      for (const a of machine.handle({ type: "message", now: m.net.now, message }))
        if (a.type === "publish" && a.message.kind === "demand") signed.push(a.message);
    }
    const at = (d: DemandMessage) => signed.find((s) => s.epoch === d.epoch && s.round === d.round);
    expect(at(lostFirst)).toEqual(lostFirst);
    expect(at(lostSecond)).toEqual(lostSecond);
  });

  it("a copy of its later demand that reaches it first (gossip, sync) does not move the anchor of the round it redoes", () => {
    const { m, last, lostFirst, lostSecond } = pastRound3();
    const store = n0Store(m);
    const kept = store.slice(0, store.indexOf(last) + 1);
    const { machine, resumed } = restart(m, kept);
    expect(machine.check(lostSecond).verdict).toBe("accept");
    machine.handle({ type: "message", now: m.net.now, message: lostSecond });
    const signed: DemandMessage[] = [...resumed];
    const held = new Set([...kept, lostSecond]);
    for (const message of store) {
      if (held.has(message) || message.agent === m.signer.id || message.kind !== "demand") continue;
      if (machine.check(message).verdict !== "accept") continue;
      for (const a of machine.handle({ type: "message", now: m.net.now, message }))
        if (a.type === "publish" && a.message.kind === "demand") signed.push(a.message);
    }
    expect(signed.find((d) => d.epoch === lostFirst.epoch && d.round === lostFirst.round)).toEqual(lostFirst);
  });

  it("a full replay restores the status the node had, its allocation (the anchor) included", () => {
    const m = market({ proximal: 2 }, 10);
    expect(m.net.runUntil(() => ownDemands(m).some((d) => d.round >= 2), 120_000)).toBe(true);
    const original = m.net.node("n0")?.machine.status();
    const { machine } = restart(m, n0Store(m));
    const replayed = machine.status();
    expect(original?.allocation).not.toBeNull();
    expect(replayed.allocation).toBe(original?.allocation);
    expect(replayed).toEqual(original);
  });
});
