import { describe, expect, it } from "vitest";
import type { AgentProfile } from "../src/economics/agent.ts";
import { solveReference } from "../src/economics/reference-solver.ts";
import { runScale, type ScaleResult } from "../src/sim/scale/scale-run.ts";
import { scaleScenario } from "../src/sim/scale/scale-scenario.ts";
import { type NetworkEvent, SimulatedNetwork } from "../src/sim/simulated-network.ts";
import { contractId, contractSchema } from "../src/wire/contract.ts";
import type { JoinMessage } from "../src/wire/messages.ts";
import { signMessage } from "../src/wire/signing.ts";

describe("the modelled CPU queue", () => {
  const contract = contractSchema.parse({
    name: "cpu queue",
    resources: [{ id: "capacity", capacity: 3 }],
    fees: { perUnit: 0.5, fixed: 0 },
    minMembers: 2,
  });
  const profile: AgentProfile = {
    valuation: { kind: "log", alpha: 10 },
    cost: { kind: "linear", beta: 1 },
    footprint: [1],
  };

  /**
   * Two nodes; a third key's joins are published from outside at chosen times after `QUIET` (when
   * the nodes' own first joins have been handled): when is each handled, counted from `QUIET`?
   */
  const QUIET = 100;
  function handledTimes(cpu: number, sendAt: readonly number[]) {
    const deliveries: { at: number; seq: number }[] = [];
    const net = new SimulatedNetwork({
      contract,
      seed: 3,
      delay: { min: 10, max: 10 },
      ...(cpu > 0 ? { cpuPerMessageMs: cpu } : {}),
      observer: (e: NetworkEvent) => {
        if (e.type === "deliver" && e.node.name === "b" && e.from === "outsider" && e.message.kind === "join")
          deliveries.push({ at: e.at - QUIET, seq: e.message.seq });
      },
    });
    net.addAgent("a", profile);
    net.addAgent("b", profile);
    net.advanceTo(QUIET);
    const outsider = net.newSigner();
    for (const [i, t] of sendAt.entries()) {
      const join = signMessage<JoinMessage>(
        { v: 2, kind: "join", contract: contractId(contract), agent: outsider.id, epoch: 0, seq: i + 1 },
        outsider,
      );
      net.publishAt("outsider", join, QUIET + t);
    }
    net.advanceTo(QUIET + 200);
    return deliveries;
  }

  it("handles a message at max(arrival, busy-until) + cost, one at a time in arrival order", () => {
    // Arrivals at 10, 10, 10, 50 (delay 10): the first three queue behind each other.
    const times = handledTimes(4, [0, 0, 0, 40]);
    expect(times.map((d) => d.seq)).toEqual([1, 2, 3, 4]);
    expect(times.map((d) => d.at)).toEqual([14, 18, 22, 54]);
  });

  it("without a cost, handles each message as it arrives (the DST harness's model)", () => {
    expect(handledTimes(0, [0, 0, 0, 40]).map((d) => d.at)).toEqual([10, 10, 10, 50]);
  });
});

/** The certified prices and allocations (by agent key), checked against the reference solver. */
function checkAgainstReference(r: ScaleResult, agents: number) {
  const cert = r.certificate;
  expect(cert, "a certificate").not.toBeNull();
  if (!cert) return;
  const { scenario } = scaleScenario(agents, 1, 0.15);
  const ref = solveReference(scenario);
  expect(cert.commit.members).toHaveLength(agents);
  expect(cert.commit.prices[0]).toBeGreaterThan(0);
  expect(Math.abs((cert.commit.prices[0] as number) - (ref.prices[0] as number))).toBeLessThan(
    1e-3 * (ref.prices[0] as number),
  );
  // Agent i of the scenario is the i-th key started: its certified x is the reference's.
  const certified = new Map(cert.commit.allocations.map((a) => [a.agent, a.x]));
  r.ids.forEach((id, i) => {
    const expected = ref.allocations.find((a) => a.agent === `a${i + 1}`)?.x as number;
    expect(Math.abs((certified.get(id) as number) - expected), `agent a${i + 1}`).toBeLessThan(
      1e-3 * (1 + expected),
    );
  });
}

describe("a reduced scale run", () => {
  it("certifies the same prices and allocations as the unreduced run, and both match the reference solver", () => {
    const full = runScale({ agents: 60, cpuPerMessageMs: 0.15 });
    const reduced = runScale({ agents: 60, machines: 8, cpuPerMessageMs: 0.15 });
    checkAgainstReference(full, 60);
    checkAgainstReference(reduced, 60);
    expect(reduced.certificate?.commit).toEqual(full.certificate?.commit);
    expect(reduced.rounds).toBe(full.rounds);
    expect(full.epochs).toBe(1);
    expect(reduced.epochs).toBe(1);
    // Timing: the machines' time to a certificate under the reduction is within a few asks. A
    // machine takes its first epoch from an answer to its ask of a random peer (protocol §9.3),
    // four asks per announceMs, and fewer peers hold it yet in the reduced run; a light agent's
    // node takes it when the founder's proposal reaches it (within a few ms before that rule).
    expect(reduced.certifiedAtMs).not.toBeNull();
    expect(Math.abs((reduced.certifiedAtMs as number) - (full.certifiedAtMs as number))).toBeLessThan(2_000);
    // The machines received every member's demand each round.
    expect(reduced.received.demand?.messages).toBeCloseTo(full.received.demand?.messages as number, 0);
  }, 60_000);
});
