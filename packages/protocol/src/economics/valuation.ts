import type { Valuation } from "./agent.ts";

/**
 * V(x) for x >= 0. The quadratic family is the whole parabola a*x - b*x^2/2: it peaks at x = a/b
 * and falls beyond, so a consumer never demands more than a/b, and a supplier paid to go further
 * still has a finite best response (the falling valuation is its curvature).
 * Power with theta > 1 has V(0) = -Infinity: such an agent can never profitably stay out.
 */
export function valuationValue(v: Valuation, x: number): number {
  switch (v.kind) {
    case "log":
      return v.alpha * Math.log1p(x);
    case "quadratic":
      return v.a * x - (v.b * x * x) / 2;
    case "power":
      return (v.w * x ** (1 - v.theta)) / (1 - v.theta);
  }
}

/** V'(x); +Infinity at x = 0 for the power family. */
export function valuationMarginal(v: Valuation, x: number): number {
  switch (v.kind) {
    case "log":
      return v.alpha / (1 + x);
    case "quadratic":
      return v.a - v.b * x;
    case "power":
      return v.w * x ** -v.theta;
  }
}

/** V''(x) < 0 (strict concavity); -Infinity at x = 0 for the power family. */
export function valuationCurvature(v: Valuation, x: number): number {
  switch (v.kind) {
    case "log":
      return -v.alpha / ((1 + x) * (1 + x));
    case "quadratic":
      return -v.b;
    case "power":
      return -v.theta * v.w * x ** (-v.theta - 1);
  }
}
