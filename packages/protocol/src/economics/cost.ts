import type { Cost } from "./agent.ts";

/** C(x) for x >= 0: linear beta*x or quadratic beta*x + c*x^2/2. */
export function costValue(c: Cost, x: number): number {
  switch (c.kind) {
    case "linear":
      return c.beta * x;
    case "quadratic":
      return c.beta * x + (c.c * x * x) / 2;
  }
}

/** C'(x). */
export function costMarginal(c: Cost, x: number): number {
  switch (c.kind) {
    case "linear":
      return c.beta;
    case "quadratic":
      return c.beta + c.c * x;
  }
}

/** C''(x) >= 0; constant for both families (x is kept for a uniform signature). */
export function costCurvature(c: Cost, _x: number): number {
  switch (c.kind) {
    case "linear":
      return 0;
    case "quadratic":
      return c.c;
  }
}
