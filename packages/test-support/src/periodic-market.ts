import { type Contract, contractSchema } from "@walras/protocol";

/**
 * A one-resource market that clears again every 3 s (rounds time out after 2 s), founded once
 * `minMembers` agents have joined: the chain of certificates the ledger tests and scripts build.
 * One definition, so that its terms (and the contract id the seeded simulator runs hash) are the
 * same wherever it is built.
 */
export function periodicMarket(name: string, minMembers: number): Contract {
  return contractSchema.parse({
    name,
    resources: [{ id: "cpu", capacity: 6 }],
    fees: { perUnit: 0.5, fixed: 0 },
    minMembers,
    period: { ms: 3000 },
    timeouts: { roundMs: 2000, announceMs: 200 },
  });
}
