import type { SimNode } from "../src/sim/simulated-network.ts";
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
