import type { AgentProfile } from "./agent.ts";

/**
 * The profile with its money scaled by `money` (valuation and cost) and its footprint by `units`:
 * the same agent in other currency and other units, as real markets mix households and
 * factories, litres and megawatts. Used by the property tests' spread markets
 * (test/market-arbitrary.ts) and the simulator's (sim/schedule.ts), so both draw one kind of member.
 */
export function scaledProfile<P extends AgentProfile>(profile: P, money: number, units: number): P {
  const v = profile.valuation;
  const valuation =
    v.kind === "log"
      ? { ...v, alpha: v.alpha * money }
      : v.kind === "quadratic"
        ? { ...v, a: v.a * money, b: v.b * money }
        : { ...v, w: v.w * money };
  const c = profile.cost;
  const cost =
    c.kind === "linear" ? { ...c, beta: c.beta * money } : { ...c, beta: c.beta * money, c: c.c * money };
  return { ...profile, valuation, cost, footprint: profile.footprint.map((a) => a * units) };
}
