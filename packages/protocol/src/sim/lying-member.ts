import type { AgentProfile } from "../economics/agent.ts";
import type { Demand } from "../economics/demand.ts";
import { paperProfiles } from "../economics/paper-scenario.ts";
import { solveReference } from "../economics/reference-solver.ts";
import { scenarioSchema } from "../economics/scenario.ts";
import type { Certificate } from "../wire/certificate.ts";
import { type Contract, contractSchema } from "../wire/contract.ts";
import { SimulatedNetwork } from "./simulated-network.ts";

/**
 * FAULT INJECTION: the ways a member can misreport while every message it signs passes every
 * check (docs/security.md §2). Slope lies leave x truthful, so the equilibrium is the honest one;
 * the alternating lie switches every round between its true demand and that of an agent whose
 * valuation is half as large again (x and slope both x1.5), two demands each of which looks
 * truthful on its own. The exit lie leaves x and slope truthful and adds, below its activity cap, a
 * claim to leave that cap just above its own unit price q, as steeply as a demand may say: believed,
 * it would cut every step of the hinge walk to nothing (docs/protocol.md §4).
 */
export type Lie = "slope x1e6" | "slope x1e9" | "slope x1e-6" | "slope 0" | "alternating x" | "exit at q";

export const LIES: readonly Lie[] = [
  "slope x1e6",
  "slope x1e9",
  "slope x1e-6",
  "slope 0",
  "alternating x",
  "exit at q",
];

export function misreport(lie: Lie): (demand: Demand, round: number, unitPrice: number) => Demand {
  switch (lie) {
    case "slope x1e6":
      return (d) => ({ x: d.x, slope: d.slope * 1e6 });
    case "slope x1e9":
      return (d) => ({ x: d.x, slope: d.slope * 1e9 });
    case "slope x1e-6":
      return (d) => ({ x: d.x, slope: d.slope * 1e-6 });
    case "slope 0":
      return (d) => ({ x: d.x, slope: 0 });
    case "alternating x":
      return (d, round) => (round % 2 === 1 ? { x: d.x * 1.5, slope: d.slope * 1.5 } : d);
    case "exit at q":
      return (d, _round, q) => ({ ...d, exit: { price: q, slope: -1e12 } });
  }
}

/**
 * The market the lying-member tests and the bench share: four of the paper's agents (seed 41) on
 * one resource of capacity 4, where all four are active; the liar (member 0) is the one with the
 * largest demand, alpha 14.5. minMembers 4, as a multi-node test needs.
 */
export function lyingMarket(): { contract: Contract; profiles: AgentProfile[] } {
  const [a, b, c, d] = paperProfiles(4, 41) as [AgentProfile, AgentProfile, AgentProfile, AgentProfile];
  return {
    contract: contractSchema.parse({
      name: "lying member",
      resources: [{ id: "capacity", capacity: 4 }],
      fees: { perUnit: 0.5, fixed: 0 },
      minMembers: 4,
      timeouts: { roundMs: 2000, announceMs: 200 },
    }),
    profiles: [b, a, c, d],
  };
}

export interface LyingMarketResult {
  /** Rounds the certified epoch ran (the round it settled at, plus one); null: no certificate. */
  readonly rounds: number | null;
  readonly certificate: Certificate | null;
  /** The honest equilibrium: every member's true profile through the reference solver. */
  readonly reference: ReturnType<typeof solveReference>;
  /** Largest relative distance of the certificate's prices and allocations from the reference. */
  readonly error: number;
}

/**
 * Runs a market of `profiles` on a simulated network where member 0 tells `lie` (or nobody lies
 * when `lie` is null), until every node holds a certificate or `limitMs` of virtual time pass.
 */
export function runLyingMarket(
  contract: Contract,
  profiles: readonly AgentProfile[],
  lie: Lie | null,
  seed: number,
  limitMs = 600_000,
): LyingMarketResult {
  const net = new SimulatedNetwork({ contract, seed });
  const signers = profiles.map(() => net.newSigner());
  const nodes = profiles.map((p, i) =>
    net.addAgent(`n${i}`, p, signers[i], undefined, i === 0 && lie !== null ? misreport(lie) : undefined),
  );
  const certified = () => nodes.every((n) => n.machine.status().certificate !== null);
  net.runUntil(certified, limitMs);
  const reference = solveReference(
    scenarioSchema.parse({ contract, agents: profiles.map((p, i) => ({ id: signers[i]?.id, ...p })) }),
  );
  const status = nodes[1]?.machine.status();
  const certificate = status?.certificate ?? null;
  if (!certified() || certificate === null)
    return { rounds: null, certificate: null, reference, error: Infinity };
  let error = 0;
  certificate.commit.prices.forEach((p, r) => {
    const want = reference.prices[r] as number;
    error = Math.max(error, Math.abs(p - want) / Math.max(want, 1e-9));
  });
  for (const a of certificate.commit.allocations) {
    const want = reference.allocations.find((r) => r.agent === a.agent)?.x ?? 0;
    error = Math.max(error, Math.abs(a.x - want) / Math.max(want, 1));
  }
  return { rounds: (status?.round ?? 0) + 1, certificate, reference, error };
}
