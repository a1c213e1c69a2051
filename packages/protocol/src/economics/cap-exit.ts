import { SLOPE_BAND } from "./verified-slopes.ts";

/**
 * Where a member at its activity cap leaves it, as it reported (Demand.exit), checked against what
 * its demands did. The claim: x stays at the cap for unit prices up to `exit`, and falls at `slope`
 * just above it. Two rounds of the same member test it, as two rounds test a reported slope
 * (verified-slopes.ts): still at the cap at a unit price above a claimed exit, or below the cap at
 * one under it, contradicts the claim; a move from the cap to below it gives the secant from the
 * exit, which must agree with the slope within SLOPE_BAND (against a round where the member was out
 * of the market, only be no flatter than that band). These checks see only claims from a
 * member exactly at its activity cap (the rule drops every other, newton-rule.ts observe()): below
 * it, an exit at its own unit price every round, as x falls truthfully, contradicts none of them.
 * A claim the rule cannot use costs no more than no claim: the member then looks flat at its cap.
 */

/** Unit prices closer than this share of their size count as equal (rounding, not behaviour). */
const SAME_PRICE = 1e-12;

/** One member in one round: unit price q, demand x, and its claimed exit (slope 0: none). */
export interface CapObservation {
  readonly q: number;
  readonly x: number;
  readonly exit: number;
  readonly exitSlope: number;
}

function above(q: number, e: number): boolean {
  return q - e > SAME_PRICE * Math.max(Math.abs(q), Math.abs(e));
}

/** The claim at `o` is contradicted by the same member at `b`. */
function contradicts(o: CapObservation, b: CapObservation): boolean {
  if (!(o.exitSlope < 0)) return false;
  if (above(b.q, o.exit)) return b.x >= o.x;
  return above(o.exit, b.q) && b.x < o.x;
}

/**
 * The exit slope the rule may use for the member at `base` (0: none), given the same member at the
 * other end of the segment just travelled (null before any).
 */
export function checkedExitSlope(base: CapObservation, other: CapObservation | null): number {
  const s = base.exitSlope;
  if (!(s < 0 && base.x > 0) || above(base.q, base.exit)) return 0;
  if (other === null) return s;
  if (contradicts(base, other) || contradicts(other, base)) return 0;
  if (!(above(other.q, base.exit) && other.x < base.x)) return s;
  const secant = (other.x - base.x) / (other.q - base.exit);
  // Out of the market there (x = 0): its line reached 0 at or before that price, so the secant
  // only bounds the slope from one side: the slope is at least as steep.
  const steepest = other.x === 0 ? Number.NEGATIVE_INFINITY : SLOPE_BAND * secant;
  return s >= steepest && s <= secant / SLOPE_BAND ? s : secant;
}
