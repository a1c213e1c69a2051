import type { AgentId } from "../wire/ids.ts";

/** An agent's answer to a price vector: its activity level and how it moves with price. */
export interface Demand {
  /** Activity level x_i >= 0. */
  readonly x: number;
  /**
   * d x_i / d(unit price) <= 0, where the unit price is tau + a_i.p. Zero where the agent is out
   * (x = 0) or at a kink. Lets every node build the aggregate Jacobian for the newton rule.
   */
  readonly slope: number;
}

/** A demand as it travels: what every node needs to aggregate it, and nothing private. */
export interface ReportedDemand extends Demand {
  readonly agent: AgentId;
  readonly footprint: readonly number[];
}
