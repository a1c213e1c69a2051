import { describe, expect, it } from "vitest";
import { paperProfiles } from "../src/economics/paper-scenario.ts";
import type { MachineAction, MachineEvent } from "../src/machine/machine-io.ts";
import { buildMachine, type MachineFactory } from "../src/sim/machine-factory.ts";
import { SeenCache } from "../src/sim/seen-cache.ts";
import { type SimNode, SimulatedNetwork } from "../src/sim/simulated-network.ts";
import { createTrace } from "../src/sim/trace.ts";
import { contractId, contractSchema } from "../src/wire/contract.ts";
import type { Digest } from "../src/wire/ids.ts";
import { type DemandMessage, PROTOCOL_VERSION } from "../src/wire/messages.ts";
import { signMessage } from "../src/wire/signing.ts";

const d = (s: string) => s as Digest;

describe("the simulator's gossipsub seen cache", () => {
  it("holds an id for its lifetime from when it was first seen, not from a later sighting", () => {
    const seen = new SeenCache(1_000);
    seen.add(d("a"), 0);
    seen.add(d("b"), 500);
    seen.add(d("a"), 900);
    expect(seen.has(d("a"), 999)).toBe(true);
    expect(seen.has(d("a"), 1_000)).toBe(false);
    expect(seen.has(d("b"), 1_000)).toBe(true);
    expect(seen.has(d("b"), 1_500)).toBe(false);
    seen.add(d("a"), 2_000);
    expect(seen.has(d("a"), 2_999)).toBe(true);
  });
});

describe("the trace of a relay the seen cache drops", () => {
  it("prints what the network sent: a relay of what the node published or relayed in the same event is suppressed", () => {
    const contract = contractSchema.parse({
      name: "seen cache trace",
      resources: [{ id: "cpu", capacity: 6 }],
      fees: { perUnit: 0.5, fixed: 0 },
      timeouts: { roundMs: 2_000, announceMs: 200 },
    });
    // The next event's actions, in place of what the node's machine would return.
    let scripted: MachineAction[] | null = null;
    const scriptable: MachineFactory = (spec) => {
      const machine = buildMachine(spec);
      const handle = (event: MachineEvent) => {
        const actions = scripted ?? machine.handle(event);
        scripted = null;
        return actions;
      };
      return new Proxy(machine, {
        get: (target, key) => {
          if (key === "handle") return handle;
          const value = Reflect.get(target, key, target);
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
    };
    const names = new Map<string, string>();
    const trace = createTrace({ nameOf: (id) => names.get(id) ?? id, keepAll: true });
    const net = new SimulatedNetwork({
      contract,
      seed: 5,
      delay: { min: 1, max: 1 },
      machineFactory: scriptable,
      observer: (e) => trace.record(e),
    });
    const liar = net.newSigner();
    names.set(liar.id, "liar");
    const [n0] = paperProfiles(2, 3).map((p, i) => {
      const node = net.addAgent(`n${i}`, p, net.newSigner());
      if (node.id) names.set(node.id, node.name);
      return node;
    }) as [SimNode, SimNode];
    const demand = (x: number) =>
      signMessage<DemandMessage>(
        {
          v: PROTOCOL_VERSION,
          kind: "demand",
          contract: contractId(contract),
          agent: liar.id,
          epoch: 9,
          round: 0,
          prices: [1],
          x,
          slope: -1,
          footprint: [1],
        },
        liar,
      );
    const [first, second] = [demand(1), demand(2)];
    scripted = [
      { type: "publish", message: first },
      { type: "relay", message: first },
      { type: "relay", message: second },
      { type: "relay", message: second },
    ];
    const from = trace.lines()?.length ?? 0;
    net.act(n0, (now) => ({ type: "tick", now }));
    net.runUntil(() => false, 50);
    const lines = trace.lines()?.slice(from) ?? [];
    expect(lines.slice(1, 5)).toEqual([
      "         n0 publish demand liar e9 r0 x=1",
      "         n0 relay demand liar e9 r0 x=1 suppressed (seen cache)",
      "         n0 relay demand liar e9 r0 x=2",
      "         n0 relay demand liar e9 r0 x=2 suppressed (seen cache)",
    ]);
    // As sent: each version reached n1 once.
    expect(lines.filter((l) => / n1<n0 demand liar e9 r0 /.test(l)).map((l) => l.match(/x=\d/)?.[0])).toEqual(
      ["x=1", "x=2"],
    );
  });
});
