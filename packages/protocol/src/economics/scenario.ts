import { z } from "zod";
import { contractSchema } from "../wire/contract.ts";
import { scenarioAgentSchema } from "./agent.ts";

/**
 * A contract plus every agent's private profile: for simulation and for checking a network's
 * result against the reference solver. A live network never holds one of these.
 */
export const scenarioSchema = z
  .strictObject({
    contract: contractSchema,
    agents: z.array(scenarioAgentSchema).min(1),
  })
  .superRefine((s, ctx) => {
    const ids = new Set<string>();
    s.agents.forEach((a, i) => {
      if (ids.has(a.id))
        ctx.addIssue({ code: "custom", path: ["agents", i, "id"], message: "duplicate agent id" });
      ids.add(a.id);
      if (a.footprint.length !== s.contract.resources.length)
        ctx.addIssue({
          code: "custom",
          path: ["agents", i, "footprint"],
          message: `must have ${s.contract.resources.length} entries (one per resource), has ${a.footprint.length}`,
        });
    });
  });
export type Scenario = z.output<typeof scenarioSchema>;
export type ScenarioInput = z.input<typeof scenarioSchema>;
