import { expect, it } from "vitest";
import type { AgentProfile } from "../src/economics/agent.ts";
import { paperScenario } from "../src/economics/paper-scenario.ts";
import { scenarioSchema } from "../src/economics/scenario.ts";
import { createAgentMachine } from "../src/machine/agent-machine.ts";
import type { MachineAction } from "../src/machine/machine-io.ts";
import { type SimNode, SimulatedNetwork } from "../src/sim/simulated-network.ts";
import type { Signer } from "../src/wire/agent-key.ts";
import type { LeaveMessage, WireMessage } from "../src/wire/messages.ts";

/**
 * A leaver restarted within its stay that leaves again still sends a `leave` (docs/protocol.md
 * §9.4): the slots it used before the restart come back from its store, and re-using one would
 * only hand back the stored copy and send nothing.
 */
it("a leaver restarted in the same epoch goes on from the first seq it has not sent", () => {
  const base = paperScenario({ agents: 4, capacity: 10, seed: 3, g: 0, rule: "gradient" });
  const scenario = scenarioSchema.parse({ ...base, contract: { ...base.contract, minMembers: 4 } });
  const net = new SimulatedNetwork({ contract: scenario.contract, seed: 1 });
  const signers: Signer[] = scenario.agents.map((a, i) => {
    const s = net.newSigner();
    const { id: _id, ...profile } = a;
    net.addAgent(`n${i}`, profile as AgentProfile, s);
    return s;
  });
  const me = signers[0] as Signer;
  const node = (name: string) => net.node(name) as SimNode;
  const n0 = node("n0");
  const running = () => (n0.machine.status().epoch ?? 0) >= 1 && n0.machine.status().status === "running";
  expect(net.runUntil(running, 60_000)).toBe(true);
  const epoch = n0.machine.status().epoch as number;
  // Cut off from the others, so its leave is never decided and it sends its first few leaves.
  net.partition([[n0], ["n1", "n2", "n3"].map(node)]);
  net.act(n0, (now) => ({ type: "leave", now }));
  const own = () =>
    (n0.store as WireMessage[]).filter(
      (m): m is LeaveMessage => m.kind === "leave" && m.agent === me.id && m.epoch === epoch,
    );
  expect(net.runUntil(() => own().some((m) => (m.seq ?? 0) >= 2), 60_000)).toBe(true);
  const before = new Set(own().map((m) => m.seq ?? 0));
  expect([...before].sort()).toEqual([0, 1, 2]);

  // It crashes within its stay and comes back from its full store; the operator stops it again.
  let now = net.now;
  const machine = createAgentMachine({
    contract: scenario.contract,
    signer: me,
    bids: n0.machine.bids(),
    founder: n0.role === "founder",
    now,
  });
  for (const message of n0.store as WireMessage[])
    if (machine.check(message).verdict === "accept")
      machine.handle({ type: "message", now, message, replay: true });
  machine.handle({ type: "resume", now });
  expect(machine.status().epoch).toBe(epoch);
  const leaves = (actions: readonly MachineAction[]) =>
    actions.flatMap((a) =>
      a.type === "publish" && a.message.kind === "leave" ? [a.message as LeaveMessage] : [],
    );
  // At once, as on its first stop: re-using seqs 0…2 would send nothing for three re-send periods.
  const sent = leaves(machine.handle({ type: "leave", now }));
  for (let t = 0; t < 2; t++) {
    now += scenario.contract.timeouts.roundMs / 2;
    sent.push(...leaves(machine.handle({ type: "tick", now })));
  }
  expect(sent.map((m) => [m.epoch, m.seq])).toEqual([
    [epoch, before.size],
    [epoch, before.size + 1],
    [epoch, before.size + 2],
  ]);
});
