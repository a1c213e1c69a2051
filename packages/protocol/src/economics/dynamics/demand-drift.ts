import { type Prng, uniform } from "../../random/prng.ts";
import type { ScenarioAgent, Valuation } from "../agent.ts";

/**
 * Slow change in what agents want from slot to slot (the paper's "dynamic demand"): every agent's
 * valuation scale (log alpha, quadratic a, power w) is multiplied by a factor drawn from
 * U(1 - drift, 1 + drift), a multiplicative random walk. With drift = 0 agents stay as they are.
 * Draws one number per agent, in the order given.
 */
export function driftAgents(agents: readonly ScenarioAgent[], drift: number, prng: Prng): ScenarioAgent[] {
  if (!(drift >= 0 && drift < 1)) throw new RangeError(`drift must be in [0, 1), got ${drift}`);
  if (drift === 0) return [...agents];
  return agents.map((a) => ({
    ...a,
    valuation: scaleValuation(a.valuation, uniform(prng, 1 - drift, 1 + drift)),
  }));
}

function scaleValuation(v: Valuation, factor: number): Valuation {
  switch (v.kind) {
    case "log":
      return { ...v, alpha: v.alpha * factor };
    case "quadratic":
      return { ...v, a: v.a * factor };
    case "power":
      return { ...v, w: v.w * factor };
  }
}
