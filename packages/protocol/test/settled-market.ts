import { paperProfiles } from "../src/economics/paper-scenario.ts";
import type { MachineAction } from "../src/machine/machine-io.ts";
import { type SimNode, SimulatedNetwork } from "../src/sim/simulated-network.ts";
import { type Contract, contractSchema } from "../src/wire/contract.ts";

/** A one-resource market with a per-unit fee, founded once `minMembers` agents have joined. */
export function oneResourceMarket(
  name: string,
  minMembers: number,
  capacity: number,
  timeouts: { roundMs: number; announceMs: number },
): Contract {
  return contractSchema.parse({
    name,
    resources: [{ id: "capacity", capacity }],
    fees: { perUnit: 0.5, fixed: 0 },
    minMembers,
    timeouts,
  });
}

/** Every node holds a certificate of `members` members, and every member votes: the market is settled. */
export function settled(nodes: readonly SimNode[], members: number): () => boolean {
  return () =>
    nodes.every((n) => {
      const s = n.machine.status();
      return s.certificate?.commit.members.length === members && s.voters.length === members;
    });
}

/**
 * A simulated network of `agents` of the paper's agents (deliveries 1–40 ms) that records, for
 * each node, what `pick` takes from the actions it takes (with when).
 */
export function recordingNetwork<T>(
  contract: Contract,
  seed: number,
  agents: number,
  pick: (action: MachineAction, at: number) => T | undefined,
) {
  const recorded = new Map<string, T[]>();
  const net = new SimulatedNetwork({
    contract,
    seed,
    delay: { min: 1, max: 40 },
    observer: (event) => {
      if (!("actions" in event)) return;
      for (const action of event.actions) {
        const picked = pick(action, event.at);
        if (picked === undefined) continue;
        const list = recorded.get(event.node.name) ?? [];
        list.push(picked);
        recorded.set(event.node.name, list);
      }
    },
  });
  const nodes = paperProfiles(agents, 3).map((profile, i) => net.addAgent(`n${i}`, profile));
  return { net, nodes, recorded };
}
