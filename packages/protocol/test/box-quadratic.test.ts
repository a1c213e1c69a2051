import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { minimiseBoxQuadratic } from "../src/economics/box-quadratic.ts";
import { solveLinearSystem } from "../src/economics/linear-algebra.ts";

const objective = (Q: number[], b: number[], d: number[]) => {
  const n = d.length;
  let v = 0;
  for (let r = 0; r < n; r++) {
    let Qd = 0;
    for (let s = 0; s < n; s++) Qd += (Q[r * n + s] as number) * (d[s] as number);
    v += (d[r] as number) * (0.5 * Qd - (b[r] as number));
  }
  return v;
};

/**
 * The independent answer: try every assignment of each variable to its lower bound, its upper
 * bound or free (3^n of them), solve for the free ones, keep the feasible point of least value.
 */
function bruteForce(Q: number[], b: number[], lo: number[], hi: number[]): number[] {
  const n = b.length;
  let best: number[] | null = null;
  for (let code = 0; code < 3 ** n; code++) {
    const state = Array.from({ length: n }, (_, r) => Math.floor(code / 3 ** r) % 3);
    const d = state.map((s, r) => (s === 1 ? (lo[r] as number) : s === 2 ? (hi[r] as number) : 0));
    const free = state.flatMap((s, r) => (s === 0 ? [r] : []));
    if (free.length > 0) {
      const f = free.length;
      const A = new Float64Array(f * f);
      const rhs = free.map((r) => {
        let v = b[r] as number;
        for (let s = 0; s < n; s++) if (state[s] !== 0) v -= (Q[r * n + s] as number) * (d[s] as number);
        return v;
      });
      free.forEach((r, i) => {
        free.forEach((s, j) => {
          A[i * f + j] = Q[r * n + s] as number;
        });
      });
      const y = solveLinearSystem(A, f, rhs);
      if (!y) continue;
      free.forEach((r, i) => {
        d[r] = y[i] as number;
      });
    }
    if (d.some((v, r) => v < (lo[r] as number) - 1e-12 || v > (hi[r] as number) + 1e-12)) continue;
    if (best === null || objective(Q, b, d) < objective(Q, b, best)) best = d;
  }
  if (!best) throw new Error("no feasible point");
  return best;
}

const problem = fc.integer({ min: 1, max: 4 }).chain((n) =>
  fc.record({
    // Q = M'M + 0.01 I: symmetric positive definite.
    m: fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: n * n, maxLength: n * n }),
    b: fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: n, maxLength: n }),
    lo: fc.array(fc.oneof(fc.constant(0), fc.double({ min: -5, max: 0, noNaN: true })), {
      minLength: n,
      maxLength: n,
    }),
    hi: fc.array(fc.oneof(fc.constant(0), fc.double({ min: 0, max: 5, noNaN: true })), {
      minLength: n,
      maxLength: n,
    }),
  }),
);

describe("minimiseBoxQuadratic", () => {
  it("finds the same minimiser as trying every active set", () => {
    fc.assert(
      fc.property(problem, ({ m, b, lo, hi }) => {
        const n = b.length;
        const Q = Array.from({ length: n * n }, (_, k) => {
          const r = Math.floor(k / n);
          const s = k % n;
          let v = r === s ? 0.01 : 0;
          for (let t = 0; t < n; t++) v += (m[t * n + r] as number) * (m[t * n + s] as number);
          return v;
        });
        const got = minimiseBoxQuadratic(Q, b, lo, hi, n);
        const want = bruteForce(Q, b, lo, hi);
        got.forEach((v, r) => {
          expect(v).toBeGreaterThanOrEqual(lo[r] as number);
          expect(v).toBeLessThanOrEqual(hi[r] as number);
        });
        const scale = 1 + Math.abs(objective(Q, b, want));
        expect(objective(Q, b, got)).toBeLessThanOrEqual(objective(Q, b, want) + 1e-9 * scale);
      }),
      { numRuns: 300 },
    );
  });

  it("returns a bound exactly when it holds a variable there (a price an ulp above 0 would count as priced)", () => {
    // Scaling by sqrt(Q_rr) = sqrt(3) and back would not return -0.7 exactly.
    const d = minimiseBoxQuadratic([3, 0, 0, 2], [-100, 1], [-0.7, -1], [1, 1], 2);
    expect(d[0]).toBe(-0.7);
    expect(d[1]).toBeCloseTo(0.5, 15);
  });

  it("solves curvatures many orders of magnitude apart as well as alike ones", () => {
    const d = minimiseBoxQuadratic([1e12, 0, 0, 1e-12], [2e12, 3e-12], [-10, -10], [10, 10], 2);
    expect(d[0]).toBeCloseTo(2, 12);
    expect(d[1]).toBeCloseTo(3, 12);
  });
});
