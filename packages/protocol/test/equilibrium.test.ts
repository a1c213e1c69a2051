import { describe, expect, it } from "vitest";
import { bestResponse, payoff } from "../src/economics/best-response.ts";
import { simulate } from "../src/economics/equilibrium.ts";
import { paperScenario } from "../src/economics/paper-scenario.ts";
import { solveReference } from "../src/economics/reference-solver.ts";
import { type Scenario, scenarioSchema } from "../src/economics/scenario.ts";

function paper(n: number, m: number, g: number, extra: object = {}): Scenario {
  const input = paperScenario({ agents: n, capacity: m, seed: 7, g });
  return scenarioSchema.parse({ ...input, contract: { ...input.contract, ...extra } });
}

describe("simulate", () => {
  it("reports not-binding, with prices 0 and every agent at its unconstrained best response, when S(0) <= m", () => {
    const s = paper(10, 1000, 0);
    const r = simulate(s);
    expect(r.status).toBe("not-binding");
    expect(r.prices).toEqual([0]);
    expect(r.rounds).toBe(1);
    r.allocations.forEach(({ agent, x }) => {
      const a = s.agents.find((b) => b.id === agent);
      if (!a) throw new Error("unknown agent");
      expect(x).toBe(bestResponse(a, s.contract, [0]).x);
    });
  });

  it("newton converges in a handful of rounds on the paper's agents and agrees with the reference", () => {
    const s = paper(200, 200, 0);
    const r = simulate(s, { rule: { kind: "newton" }, recordPath: true });
    const ref = solveReference(s);
    expect(r.status).toBe("converged");
    expect(r.rounds).toBeLessThanOrEqual(15);
    expect(r.path).toHaveLength(r.rounds);
    expect(Math.abs((r.prices[0] as number) - (ref.prices[0] as number))).toBeLessThan(
      1e-6 * (ref.prices[0] as number),
    );
  });

  it("the gradient rule reaches the same prices, in more rounds", () => {
    const s = paper(200, 200, 0);
    const newton = simulate(s, { rule: { kind: "newton" } });
    const gradient = simulate(s, { rule: { kind: "gradient" } });
    expect(gradient.status).toBe("converged");
    expect(gradient.rounds).toBeGreaterThan(newton.rounds);
    expect(Math.abs((gradient.prices[0] as number) - (newton.prices[0] as number))).toBeLessThan(1e-5);
  });

  it("the proximal variant converges to the same equilibrium", () => {
    const s = paper(50, 50, 0, { proximal: 0.5 });
    const r = simulate(s);
    const ref = solveReference(s);
    expect(r.status).toBe("converged");
    expect(Math.abs((r.prices[0] as number) - (ref.prices[0] as number))).toBeLessThan(1e-5);
  });

  it("with g > 0 and a jump in demand at the margin, says the equilibrium is approximate", () => {
    // Two identical agents. Each stays in while 8 ln(8/u) - 8 + u >= g = 3 (u = 1 + q), i.e. down
    // to x ~ 1.76 each, then drops to 0: aggregate demand jumps from ~3.5 to 0 (both leave at the
    // same price), so capacity 3 is never cleared exactly.
    const agent = (id: string) => ({
      id,
      valuation: { kind: "log" as const, alpha: 8 },
      cost: { kind: "linear" as const, beta: 1 },
      footprint: [1],
    });
    const s = scenarioSchema.parse({
      contract: { name: "jump", resources: [{ id: "r", capacity: 3 }], fees: { perUnit: 0, fixed: 3 } },
      agents: [agent("a"), agent("b")],
    });
    const r = simulate(s, { maxRounds: 300 });
    // The residual stops improving: the stall rule gives up long before the round limit.
    expect(r.status).toBe("stalled");
    expect(r.rounds).toBeLessThan(300);
    expect(r.note).toMatch(/too-slow.*fixed fee g = 3/);
    expect(r.residual).toBeGreaterThan(s.contract.tolerance.residual);
    // The reported allocation is still each agent's best response at the reported prices.
    for (const { agent: id, x } of r.allocations) {
      const a = s.agents.find((b) => b.id === id);
      if (!a) throw new Error("unknown agent");
      expect(payoff(a, s.contract, r.prices, x)).toBeCloseTo(
        payoff(a, s.contract, r.prices, bestResponse(a, s.contract, r.prices).x),
        12,
      );
    }
    expect(solveReference(s).status).toBe("approximate");
  });

  it("is deterministic: the same scenario in another agent order gives the same bits", () => {
    const s = paper(100, 80, 0);
    const reversed = { ...s, agents: [...s.agents].reverse() };
    expect(JSON.stringify(simulate(reversed))).toBe(JSON.stringify(simulate(s)));
  });
});
