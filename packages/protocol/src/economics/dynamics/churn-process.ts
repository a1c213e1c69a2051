import type { Prng } from "../../random/prng.ts";
import type { ScenarioAgent } from "../agent.ts";

/**
 * Members joining and leaving between slots (the paper's participation shocks, as a steady
 * process): every present agent leaves with probability `rate`, independently, and the number of
 * newcomers is Poisson with mean rate * `meanAgents`, so membership hovers around meanAgents. The
 * last agent never leaves (a market needs one). Newcomers come from `arrive(count)`.
 */
export interface ChurnStep {
  readonly stay: ScenarioAgent[];
  readonly left: string[];
  readonly arrivals: number;
}

export function churnStep(
  agents: readonly ScenarioAgent[],
  rate: number,
  meanAgents: number,
  prng: Prng,
): ChurnStep {
  if (!(rate >= 0 && rate < 1)) throw new RangeError(`churn must be in [0, 1), got ${rate}`);
  const stay: ScenarioAgent[] = [];
  const left: string[] = [];
  for (const a of agents) {
    if (prng() < rate) left.push(a.id);
    else stay.push(a);
  }
  const last = agents[agents.length - 1];
  if (stay.length === 0 && last !== undefined) {
    stay.push(last);
    left.pop();
  }
  return { stay, left, arrivals: rate === 0 ? 0 : poisson(prng, rate * meanAgents) };
}

/** Knuth's multiplication method: exact for the small means a churn rate gives (one draw per unit). */
function poisson(prng: Prng, mean: number): number {
  const limit = Math.exp(-mean);
  let k = 0;
  let product = prng();
  while (product > limit) {
    k++;
    product *= prng();
  }
  return k;
}
