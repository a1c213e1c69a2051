import { z } from "zod";
import { boundedEntry, boundedNonNegative, boundedPositive } from "../wire/protocol-numbers.ts";

/**
 * An agent's private economics. On the network it never leaves its node; only demands,
 * slopes and the footprint travel. Every number is within the protocol's bounds
 * (protocol-numbers.ts): positive parameters in [1e-12, 1e12], the others in [0, 1e12], footprint
 * entries 0 or of magnitude in [1e-12, 1e12].
 */
export const valuationSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("log"), alpha: boundedPositive }),
  z.strictObject({ kind: z.literal("quadratic"), a: boundedPositive, b: boundedPositive }),
  z.strictObject({
    kind: z.literal("power"),
    w: boundedPositive,
    theta: boundedPositive.refine((t) => t !== 1, "must not be 1 (use log)"),
  }),
]);
export type Valuation = z.infer<typeof valuationSchema>;

export const costSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("linear"), beta: boundedNonNegative }),
  z.strictObject({ kind: z.literal("quadratic"), beta: boundedNonNegative, c: boundedNonNegative }),
]);
export type Cost = z.infer<typeof costSchema>;

/** What an agent is, without its id (the node's key gives the id). */
export const agentProfileSchema = z.strictObject({
  valuation: valuationSchema,
  cost: costSchema,
  /** Units of each resource per unit of activity; negative supplies the resource. */
  footprint: z.array(boundedEntry).min(1).max(64),
});
export type AgentProfile = z.infer<typeof agentProfileSchema>;

export const scenarioAgentSchema = agentProfileSchema.extend({ id: z.string().min(1) });
export type ScenarioAgent = z.infer<typeof scenarioAgentSchema>;
