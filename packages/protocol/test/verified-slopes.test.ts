import { describe, expect, it } from "vitest";
import { SLOPE_BAND, verifiedSlope } from "../src/economics/verified-slopes.ts";

/**
 * A member with log valuation alpha ln(1+x) and linear cost beta: x(q) = alpha/(beta + q) - 1 and
 * dx/dq = -alpha/(beta + q)^2. Between q0 = 1 and q = 1.2 (alpha 12, beta 1) its true secant is
 * (x(1.2) - x(1)) / 0.2 = -alpha / ((beta + 1)(beta + 1.2)) = -12 / 4.4.
 */
const alpha = 12;
const beta = 1;
const x = (q: number) => alpha / (beta + q) - 1;
const slope = (q: number) => -alpha / (beta + q) ** 2;
const secant = (x(1.2) - x(1)) / 0.2;

describe("verifiedSlope", () => {
  it.each([
    ["truthful: its derivative, inside the band around the secant", slope(1.2), slope(1.2)],
    ["x1e6: the secant", slope(1.2) * 1e6, secant],
    ["x1e9: the secant", slope(1.2) * 1e9, secant],
    ["x1e-6: the secant", slope(1.2) * 1e-6, secant],
    ["0 while demand moved: the secant", 0, secant],
    [
      "just inside the band (secant x SLOPE_BAND): kept",
      secant * SLOPE_BAND * 0.999,
      secant * SLOPE_BAND * 0.999,
    ],
    ["just outside it: the secant", secant * SLOPE_BAND * 1.001, secant],
    [
      "just inside the band (secant / SLOPE_BAND): kept",
      (secant / SLOPE_BAND) * 1.001,
      (secant / SLOPE_BAND) * 1.001,
    ],
    ["just outside it: the secant", (secant / SLOPE_BAND) * 0.999, secant],
  ])("%s", (_what, reported, want) => {
    expect(verifiedSlope(1, x(1), 1.2, x(1.2), reported)).toBeCloseTo(want, 12);
  });

  it("keeps the reported slope when the unit price did not move (no observation to check it by)", () => {
    expect(verifiedSlope(1, x(1), 1, x(1), -123)).toBe(-123);
    // A move below rounding noise (1e-12 of the price) is no observation either.
    expect(verifiedSlope(1, x(1), 1 + 1e-13, x(1), -123)).toBe(-123);
  });

  it("counts a secant pointing up (x rose with its price: a lie or a proximal term) as 0", () => {
    expect(verifiedSlope(1, 2, 1.2, 3, -5)).toBe(0);
    expect(verifiedSlope(1, 2, 1.2, 3, 0)).toBe(0);
  });

  it("a member out at both ends (x = 0) is unresponsive whatever it reports", () => {
    expect(verifiedSlope(1, 0, 1.2, 0, 0)).toBe(0);
    expect(verifiedSlope(1, 0, 1.2, 0, -7)).toBe(0);
  });

  it("against a round where the member was out (x = 0 at a dearer unit price), takes any steeper slope", () => {
    // Demand 2 - 10 (q - 1) reaches 0 at q = 1.2; seen out at q = 3, the secant -2/2 = -1 is a tenth
    // of the true slope -10, and only bounds it: a slope at least as steep is the member's own.
    expect(verifiedSlope(3, 0, 1, 2, -10)).toBe(-10);
    expect(verifiedSlope(3, 0, 1, 2, -1e9)).toBe(-1e9);
    // Flatter than the secant's band is still overruled: its demand did fall at least that fast.
    expect(verifiedSlope(3, 0, 1, 2, -0.1)).toBe(-1);
    // Out at the cheaper end instead (a member that left as its price fell) is no such bound.
    expect(verifiedSlope(0.5, 0, 1, 2, -1e9)).toBe(0);
  });

  it("is symmetric in which end is older: the secant of a segment is one number", () => {
    expect(verifiedSlope(1.2, x(1.2), 1, x(1), 0)).toBeCloseTo(secant, 12);
  });
});
