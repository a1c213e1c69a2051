import { z } from "zod";
import { canonicalBytes } from "./canonical-json.ts";
import { sha256Hex } from "./hash.ts";
import { asContractId, type ContractId } from "./ids.ts";
import { boundedNonNegative, boundedPositive, WIRE_NUMBER_BOUND } from "./protocol-numbers.ts";

/** Capacities, fees and prices share the protocol's number bounds (protocol-numbers.ts). */
const positive = boundedPositive;
const hex64 = z.string().regex(/^[0-9a-f]{64}$/, "must be 64 hex digits");

/**
 * The newton rule's model of the market (docs/economics.md): `hinges` (the default) walks every
 * member's kink along the step; `sums` steps from the market's sums alone, as committee
 * aggregation can feed it (docs/scaling.md §2).
 */
export const NEWTON_MODELS = ["hinges", "sums", "curves"] as const;
export type NewtonModel = (typeof NEWTON_MODELS)[number];

export const priceRuleSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("newton"), model: z.enum(NEWTON_MODELS).optional() }),
  /** The paper's Algorithm 1. Without `step` one is derived from a Lipschitz bound on demand. */
  z.strictObject({ kind: z.literal("gradient"), step: positive.optional() }),
]);
export type PriceRule = z.infer<typeof priceRuleSchema>;

export const membershipSchema = z.discriminatedUnion("policy", [
  /** Any key may join. Open to Sybil agents: see docs/security.md. */
  z.strictObject({ policy: z.literal("open") }),
  z.strictObject({ policy: z.literal("allowlist"), members: z.array(z.string().min(1)).min(1) }),
]);
export type Membership = z.infer<typeof membershipSchema>;

/** The longest round timeout a contract may set: a day. */
export const MAX_ROUND_MS = 86_400_000;
/** The longest announcement interval a contract may set: an hour. */
export const MAX_ANNOUNCE_MS = 3_600_000;

const contractFields = z.strictObject({
  name: z.string().min(1),
  resources: z
    .array(z.strictObject({ id: z.string().min(1), capacity: positive }))
    .min(1)
    .max(64)
    .refine((rs) => new Set(rs.map((r) => r.id)).size === rs.length, "resource ids must be unique"),
  fees: z.strictObject({ perUnit: boundedNonNegative, fixed: boundedNonNegative }),
  priceRule: priceRuleSchema.default({ kind: "newton" }),
  /** gamma of the proximal best response (the paper's Algorithm 1); 0 turns it off. */
  proximal: boundedNonNegative.default(0),
  tolerance: z
    .strictObject({
      // Below ~1e-300 the stall rule's lg(b/eps) overflows to Infinity and every node throws at
      // the same round; 1e-15 is already at a double's precision for a relative residual.
      residual: z.number().min(1e-15, "must be at least 1e-15").max(1),
      price: z.number().positive().max(WIRE_NUMBER_BOUND),
    })
    .default({ residual: 1e-6, price: 1e-9 }),
  maxRounds: z.number().int().positive().default(10_000),
  /** Prices the first epoch starts from, one per resource; zeros when absent (filled in below). */
  initialPrices: z.array(boundedNonNegative).optional(),
  membership: membershipSchema.default({ policy: "open" }),
  /** Fraction of an epoch's members whose commit signatures make a certificate. */
  quorum: z
    .number()
    .gt(0.5)
    .lte(1)
    .default(2 / 3),
  /** Members the first epoch waits for before round 0. */
  minMembers: z.number().int().positive().default(1),
  timeouts: z
    .strictObject({
      /**
       * A round that has not closed after this long drops its silent members (new epoch). At most
       * a day: beyond that a silent member is never dropped in any useful time, and the timers the
       * nodes derive from it (2 · roundMs, doubling view timeouts) overflow a timer.
       */
      roundMs: z.number().int().positive().max(MAX_ROUND_MS).default(4_000),
      /** How often a node that is not yet a member re-announces itself. At most an hour. */
      announceMs: z.number().int().positive().max(MAX_ANNOUNCE_MS).default(1_000),
    })
    .default({ roundMs: 4_000, announceMs: 1_000 }),
  /**
   * Re-clear every `ms`: a new slot (epoch) with every member's current bid, once the last one is
   * certified. Absent: a new slot opens only when something changes (a member, a bid, the terms).
   */
  period: z.strictObject({ ms: z.number().int().positive() }).optional(),
  /** Only on amended terms: the id of the terms this document amends (the chain back to the market). */
  amends: hex64.optional(),
});

/**
 * A contract document. Every optional field takes its default before the id is computed
 * (docs/protocol.md §2), `initialPrices` included (zeros, one per resource), so that an
 * implementation written from the spec alone computes the same contract id.
 */
export const contractSchema = contractFields
  .superRefine((c, ctx) => {
    if (c.initialPrices && c.initialPrices.length !== c.resources.length)
      ctx.addIssue({
        code: "custom",
        path: ["initialPrices"],
        message: `must have one entry per resource (${c.resources.length})`,
      });
  })
  .transform((c) => ({ ...c, initialPrices: c.initialPrices ?? c.resources.map(() => 0) }));
/** A contract as written (defaults may be missing). */
export type ContractInput = z.input<typeof contractSchema>;
/** A contract with every default filled in: what its id is computed over. */
export type Contract = z.output<typeof contractSchema>;

export function contractId(contract: Contract): ContractId {
  return asContractId(sha256Hex(canonicalBytes(contract)));
}

export function resourceCount(contract: Contract): number {
  return contract.resources.length;
}
