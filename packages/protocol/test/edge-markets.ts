import fc from "fast-check";
import { type AgentProfile, agentProfileSchema } from "../src/economics/agent.ts";
import { roundBudget } from "../src/economics/stall-rule.ts";
import { SimulatedNetwork } from "../src/sim/simulated-network.ts";
import { verifyCertificate } from "../src/wire/certificate.ts";
import { type Contract, contractSchema } from "../src/wire/contract.ts";
import { decodeMessage, encodeMessage } from "../src/wire/message-codec.ts";
import { MIN_MAGNITUDE, WIRE_NUMBER_BOUND } from "../src/wire/protocol-numbers.ts";

/**
 * Markets built from numbers at the edges of every range the CLI accepts (protocol-numbers.ts):
 * each parameter is its smallest or largest allowed value, 1, or log-uniform between. Run on a
 * simulated network of real agent machines, every one must end certified (exactly or flagged
 * approximate, with a certificate that verifies offline) within its round budget, and every
 * message any node signed must be one every node accepts (it decodes against the wire schema).
 * Shared by the CI fuzz test and `pnpm fuzz`.
 */
const positive = fc.oneof(
  fc.constantFrom(MIN_MAGNITUDE, WIRE_NUMBER_BOUND, 1),
  fc.double({ min: -12, max: 12, noNaN: true }).map((e) => 10 ** e),
);
const nonNegative = fc.oneof(fc.constant(0), positive);
const entry = fc.oneof(
  fc.constant(0),
  positive,
  positive.map((v) => -v),
);

const profileArb = (R: number): fc.Arbitrary<AgentProfile> =>
  fc
    .record({
      valuation: fc.oneof(
        fc.record({ kind: fc.constant("log" as const), alpha: positive }),
        fc.record({ kind: fc.constant("quadratic" as const), a: positive, b: positive }),
        fc.record({
          kind: fc.constant("power" as const),
          w: positive,
          theta: positive.filter((t) => t !== 1),
        }),
      ),
      cost: fc.oneof(
        fc.record({ kind: fc.constant("linear" as const), beta: nonNegative }),
        fc.record({ kind: fc.constant("quadratic" as const), beta: nonNegative, c: nonNegative }),
      ),
      footprint: fc.array(entry, { minLength: R, maxLength: R }),
    })
    .map((p) => agentProfileSchema.parse(p));

export interface EdgeMarket {
  readonly contract: Contract;
  readonly profiles: readonly AgentProfile[];
  readonly seed: number;
}

export const edgeMarketArb: fc.Arbitrary<EdgeMarket> = fc.integer({ min: 1, max: 3 }).chain((R) =>
  fc.record({
    contract: fc
      .record({
        capacities: fc.array(positive, { minLength: R, maxLength: R }),
        perUnit: nonNegative,
        fixed: fc.oneof(fc.constant(0), nonNegative),
        initialPrices: fc.option(fc.array(nonNegative, { minLength: R, maxLength: R }), { nil: undefined }),
        rule: fc.constantFrom("newton" as const, "gradient" as const),
      })
      .map(({ capacities, perUnit, fixed, initialPrices, rule }) =>
        contractSchema.parse({
          name: "edges",
          resources: capacities.map((m, r) => ({ id: `r${r}`, capacity: m })),
          fees: { perUnit, fixed },
          priceRule: { kind: rule },
          // The gradient rule's budget, kept short: what matters here is that it ends certified.
          maxRounds: rule === "gradient" ? 400 : 10_000,
          ...(initialPrices ? { initialPrices } : {}),
          minMembers: 3,
          timeouts: { roundMs: 1000, announceMs: 100 },
        }),
      ),
    profiles: fc.array(profileArb(R), { minLength: 3, maxLength: 3 }),
    seed: fc.nat(),
  }),
);

/** Runs one edge market; throws what went wrong. */
export function checkEdgeMarket({ contract, profiles, seed }: EdgeMarket): void {
  const net = new SimulatedNetwork({ contract, seed });
  const nodes = profiles.map((p, i) => net.addAgent(`n${i}`, p));
  const certified = () => nodes.every((n) => n.machine.status().certificate !== null);
  // Rounds close back to back (no timeouts): the budget's rounds take a few virtual seconds.
  net.runUntil(certified, 60_000 + 100 * roundBudget(contract));
  for (const n of nodes)
    for (const m of n.store) {
      if (m.agent !== n.id) continue;
      const decoded = decodeMessage(encodeMessage(m));
      if (!decoded.ok) throw new Error(`${n.name} signed a message no node accepts: ${decoded.detail}`);
    }
  const statuses = nodes.map((n) => n.machine.status());
  if (!certified())
    throw new Error(
      `not certified: ${statuses.map((s) => `${s.status} epoch ${s.epoch} round ${s.round} residual ${s.residual}`).join("; ")}`,
    );
  const certificate = statuses[0]?.certificate;
  if (!certificate) throw new Error("no certificate");
  const check = verifyCertificate(certificate, contract);
  if (!check.ok) throw new Error(`certificate does not verify: ${check.error}`);
}

export const edgeMarkets = () => fc.property(edgeMarketArb, checkEdgeMarket);
