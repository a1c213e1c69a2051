import { createPrng, uniform } from "../random/prng.ts";
import type { PriceRule } from "../wire/contract.ts";
import type { AgentProfile } from "./agent.ts";
import { bestResponseAtUnitPrice } from "./best-response.ts";
import type { ScenarioInput } from "./scenario.ts";

/**
 * The experiment of Cha et al. (arXiv:2510.05504, §6): one resource "capacity", log valuations
 * alpha*ln(1+x) with alpha ~ U(5, 20), linear costs beta*x with beta ~ U(0.5, 5), footprint 1.
 */
export const PAPER_ALPHA = { lo: 5, hi: 20 } as const;
export const PAPER_BETA = { lo: 0.5, hi: 5 } as const;
export const PAPER_RESOURCE = "capacity";

export interface PaperScenarioOptions {
  readonly agents: number;
  readonly capacity: number;
  readonly seed: number;
  /** Per-unit contract fee; the paper's default 0.5. */
  readonly tau?: number;
  /** Fixed execution fee charged to every active agent; the paper's default 1. */
  readonly g?: number;
  readonly rule?: PriceRule["kind"];
}

/**
 * Draws a paper scenario. Agent i (1-based) is "a<i>", and its alpha then its beta are drawn in
 * that order, agent by agent, from one stream seeded by `seed`: the same seed gives the same
 * agents, and the first k agents of an n-agent scenario are those of a k-agent one.
 */
export function paperScenario(options: PaperScenarioOptions): ScenarioInput {
  const { agents, capacity, seed, tau = 0.5, g = 1, rule = "newton" } = options;
  if (!Number.isInteger(agents) || agents < 1) throw new RangeError(`agents must be an integer >= 1`);
  return {
    contract: {
      name: `paper n=${agents} m=${capacity} seed=${seed}`,
      resources: [{ id: PAPER_RESOURCE, capacity }],
      fees: { perUnit: tau, fixed: g },
      priceRule: { kind: rule },
    },
    agents: paperProfiles(agents, seed).map((profile, i) => ({ id: `a${i + 1}`, ...profile })),
  };
}

/** The paper's agents without ids: what a network test gives its nodes (ids come from their keys). */
export function paperProfiles(agents: number, seed: number): AgentProfile[] {
  const prng = createPrng(seed);
  return Array.from({ length: agents }, () => ({
    valuation: { kind: "log" as const, alpha: uniform(prng, PAPER_ALPHA.lo, PAPER_ALPHA.hi) },
    cost: { kind: "linear" as const, beta: uniform(prng, PAPER_BETA.lo, PAPER_BETA.hi) },
    footprint: [1],
  }));
}

/**
 * Expected aggregate demand n * E[x_i(p)] of a paper economy at resource price p, over the type
 * distribution (not any one draw): midpoint quadrature on a grid x grid lattice of (alpha, beta).
 * Each cell takes the agent's best response, fixed fee and all, so the participation cut-off is in.
 * This is what a designer who knows only the distribution can compute ex ante (the flat contract).
 */
export function paperExpectedSupply(
  options: { readonly agents: number; readonly tau?: number; readonly g?: number },
  price: number,
  grid = 64,
): number {
  const { agents, tau = 0.5, g = 1 } = options;
  const q = tau + price;
  let sum = 0;
  for (let i = 0; i < grid; i++) {
    const alpha = PAPER_ALPHA.lo + ((i + 0.5) * (PAPER_ALPHA.hi - PAPER_ALPHA.lo)) / grid;
    for (let j = 0; j < grid; j++) {
      const beta = PAPER_BETA.lo + ((j + 0.5) * (PAPER_BETA.hi - PAPER_BETA.lo)) / grid;
      sum += bestResponseAtUnitPrice(
        { kind: "log", alpha },
        { kind: "linear", beta },
        q,
        0,
        0,
        g,
        Number.POSITIVE_INFINITY,
      ).x;
    }
  }
  return (agents * sum) / (grid * grid);
}
