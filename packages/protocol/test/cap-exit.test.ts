import { describe, expect, it } from "vitest";
import type { Cost, ScenarioAgent, Valuation } from "../src/economics/agent.ts";
import { type CapObservation, checkedExitSlope } from "../src/economics/cap-exit.ts";
import { simulate } from "../src/economics/equilibrium.ts";
import { scenarioSchema } from "../src/economics/scenario.ts";
import { checkEquilibrium } from "./equilibrium-check.ts";

/** At its cap 10 below the exit 2, slope -5 beyond it. */
const capped: CapObservation = { q: 1, x: 10, exit: 2, exitSlope: -5 };

describe("checkedExitSlope: a capped member's exit, checked against its demands", () => {
  it("stands alone, and while the member is seen at the cap below its exit", () => {
    expect(checkedExitSlope(capped, null)).toBe(-5);
    expect(checkedExitSlope(capped, { q: 1.5, x: 10, exit: 2, exitSlope: -5 })).toBe(-5);
  });

  it("is dropped where the member contradicts it: at its cap above the exit, or below it under the exit", () => {
    expect(checkedExitSlope({ ...capped, q: 3 }, null)).toBe(0);
    expect(checkedExitSlope(capped, { q: 3, x: 10, exit: 3.5, exitSlope: -5 })).toBe(0);
    expect(checkedExitSlope(capped, { q: 1.5, x: 8, exit: 0, exitSlope: 0 })).toBe(0);
    // A member that claims, round after round, to respond from where it stands (exit = q).
    const liar = (q: number): CapObservation => ({ q, x: 10, exit: q, exitSlope: -1e9 });
    expect(checkedExitSlope(liar(1.5), liar(1))).toBe(0);
  });

  it("is replaced by the secant from the exit when the member leaves the cap at another rate", () => {
    // Below the cap at q = 3: 10 - 5 (3 - 2) = 5 is the claim's own line.
    expect(checkedExitSlope(capped, { q: 3, x: 5, exit: 0, exitSlope: 0 })).toBe(-5);
    expect(checkedExitSlope({ ...capped, exitSlope: -1e6 }, { q: 3, x: 5, exit: 0, exitSlope: 0 })).toBe(-5);
  });

  it("is kept when steeper than the secant to a round where the member was out of the market", () => {
    // Out at q = 12: its line 10 - 5 (q - 2) reached 0 at q = 4, so the secant -10/10 only bounds
    // the slope: at least that steep.
    expect(checkedExitSlope(capped, { q: 12, x: 0, exit: 0, exitSlope: 0 })).toBe(-5);
    expect(checkedExitSlope({ ...capped, exitSlope: -1e6 }, { q: 12, x: 0, exit: 0, exitSlope: 0 })).toBe(
      -1e6,
    );
    // Flatter than that bound's band: the secant.
    expect(checkedExitSlope({ ...capped, exitSlope: -0.1 }, { q: 12, x: 0, exit: 0, exitSlope: 0 })).toBe(-1);
  });
});

/** One member of a one-resource market. */
function member(id: string, valuation: Valuation, cost: Cost, footprint: number): ScenarioAgent {
  return { id, valuation, cost, footprint: [footprint] };
}

describe("a member at its activity cap in a wide-spread market", () => {
  // From `pnpm fuzz:markets --spread 3 --seed 20261203` (1 resource): agent-3 (footprint 1,876)
  // is at its cap at p = 0 and clears at p* = 3.3e-6. Reporting slope 0 there, it was invisible
  // to the model, whose steps went to p = 40 and back (reject, shrink by 4, accept, double) until
  // the stall rule stopped the market after 42 rounds with residual 0.2.
  const scenario = scenarioSchema.parse({
    contract: {
      name: "capped",
      resources: [{ id: "r0", capacity: 20.067 }],
      fees: { perUnit: 0, fixed: 0 },
      tolerance: { residual: 1e-10, price: 1e-10 },
      maxRounds: 200_000,
    },
    agents: [
      member(
        "a0",
        { kind: "power", w: 4.686, theta: 0.8895 },
        { kind: "quadratic", beta: 0, c: 0.114 },
        0.000985,
      ),
      member("a1", { kind: "quadratic", a: 4.71, b: 0.8945 }, { kind: "linear", beta: 0.9125 }, 0.8033),
      member(
        "a2",
        { kind: "quadratic", a: 11.68, b: 0.3304 },
        { kind: "quadratic", beta: 0, c: 1.264 },
        0.21,
      ),
      member(
        "a3",
        { kind: "quadratic", a: 0.01027, b: 0.0003596 },
        { kind: "linear", beta: 0.003988 },
        1876.4,
      ),
      member("a4", { kind: "log", alpha: 7.53 }, { kind: "linear", beta: 1.036 }, 0.4965),
      member("a5", { kind: "power", w: 1.525, theta: 0.4747 }, { kind: "linear", beta: 2.83 }, 0.6393),
      member("a6", { kind: "log", alpha: 3.93 }, { kind: "quadratic", beta: 0, c: 0.05744 }, 0.4213),
      member("a7", { kind: "log", alpha: 15.41 }, { kind: "linear", beta: 1.267 }, 0.4632),
      member("a8", { kind: "log", alpha: 2.936 }, { kind: "quadratic", beta: 0, c: 1.431 }, -0.5872),
    ],
  });

  it("clears exactly in a few rounds once the member says where it leaves its cap", () => {
    const result = simulate(scenario);
    checkEquilibrium(scenario, result);
    expect(result.status).toBe("converged");
    expect(result.rounds).toBeLessThanOrEqual(10);
  });
});
