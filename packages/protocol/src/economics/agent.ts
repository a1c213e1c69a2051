import { z } from "zod";

/**
 * An agent's private economics. On the network it never leaves its node; only demands,
 * slopes and the footprint travel.
 */
export const valuationSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("log"), alpha: z.number().positive() }),
  z.strictObject({ kind: z.literal("quadratic"), a: z.number().positive(), b: z.number().positive() }),
  z.strictObject({
    kind: z.literal("power"),
    w: z.number().positive(),
    theta: z
      .number()
      .positive()
      .refine((t) => t !== 1, "must not be 1 (use log)"),
  }),
]);
export type Valuation = z.infer<typeof valuationSchema>;

export const costSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("linear"), beta: z.number().nonnegative() }),
  z.strictObject({
    kind: z.literal("quadratic"),
    beta: z.number().nonnegative(),
    c: z.number().nonnegative(),
  }),
]);
export type Cost = z.infer<typeof costSchema>;

const finite = z.number().refine(Number.isFinite, "must be finite");

/** What an agent is, without its id (the node's key gives the id). */
export const agentProfileSchema = z.strictObject({
  valuation: valuationSchema,
  cost: costSchema,
  /** Units of each resource per unit of activity; negative supplies the resource. */
  footprint: z.array(finite).min(1),
});
export type AgentProfile = z.infer<typeof agentProfileSchema>;

export const scenarioAgentSchema = agentProfileSchema.extend({ id: z.string().min(1) });
export type ScenarioAgent = z.infer<typeof scenarioAgentSchema>;
