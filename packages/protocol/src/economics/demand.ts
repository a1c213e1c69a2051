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
  /**
   * Only at the activity cap (best-response.ts): the unit price up to which x stays at the cap,
   * and the slope of the demand just above it. Lets the newton rule's hinge model see where the
   * member starts to respond, which its local slope (0) cannot tell.
   */
  readonly exit?: CapExit;
}

export interface CapExit {
  readonly price: number;
  /** < 0. */
  readonly slope: number;
}

/** A demand as it travels: what every node needs to aggregate it, and nothing private. */
export interface ReportedDemand extends Demand {
  readonly agent: AgentId;
  readonly footprint: readonly number[];
}
