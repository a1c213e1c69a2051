import { solveLinearSystem } from "./linear-algebra.ts";

/**
 * The minimiser of q(d) = 1/2 d'Qd - b'd over the box lower <= d <= upper, for a small symmetric
 * positive definite Q (row-major, size x size) and lower <= 0 <= upper. The variables are first
 * scaled to a unit diagonal (Jacobi), so that resources whose curvatures differ by many orders of
 * magnitude are solved as accurately as alike ones. Then a primal active-set method
 * (Nocedal & Wright, Numerical Optimization, §16.5) started from d = 0: solve for the free
 * variables with the others held at their bounds; if that leaves the box, walk to the first bound
 * hit and hold it; otherwise release the held variable whose multiplier has the wrong sign, or stop
 * at the optimum. q falls at every iteration, so no working set repeats; the iteration cap only
 * guards against rounding. Only + - * / in a fixed order: the same bits on every node.
 */
export function minimiseBoxQuadratic(
  Q: ArrayLike<number>,
  b: ArrayLike<number>,
  lower: ArrayLike<number>,
  upper: ArrayLike<number>,
  size: number,
): number[] {
  const scale = new Float64Array(size);
  for (let r = 0; r < size; r++) {
    const q = Q[r * size + r] as number;
    if (!(q > 0 && Number.isFinite(q)))
      throw new RangeError(`box quadratic: Q[${r}][${r}] = ${q} is not > 0`);
    scale[r] = Math.sqrt(q);
  }
  const Qs = new Float64Array(size * size);
  const bs = new Float64Array(size);
  const lo = new Float64Array(size);
  const hi = new Float64Array(size);
  for (let r = 0; r < size; r++) {
    const sr = scale[r] as number;
    for (let s = 0; s < size; s++)
      Qs[r * size + s] = (Q[r * size + s] as number) / (sr * (scale[s] as number));
    bs[r] = (b[r] as number) / sr;
    lo[r] = (lower[r] as number) * sr;
    hi[r] = (upper[r] as number) * sr;
  }
  const { d, held } = minimiseScaled(Qs, bs, lo, hi, size);
  // A variable held at a bound is that bound exactly (unscaling would leave it an ulp off, and a
  // price an ulp above 0 is a priced resource to the stopping rule).
  return d.map((v, r) =>
    held[r] === -1 ? (lower[r] as number) : held[r] === 1 ? (upper[r] as number) : v / (scale[r] as number),
  );
}

function minimiseScaled(
  Q: ArrayLike<number>,
  b: ArrayLike<number>,
  lower: ArrayLike<number>,
  upper: ArrayLike<number>,
  size: number,
): { d: number[]; held: Int8Array } {
  const d = new Array<number>(size).fill(0);
  /** -1 held at lower, 1 held at upper, 0 free. */
  const held = new Int8Array(size);
  // Start by holding the variables whose bound is 0 and which the gradient -b pushes against it.
  for (let r = 0; r < size; r++) {
    const br = b[r] as number;
    if ((lower[r] as number) === 0 && br <= 0) held[r] = -1;
    else if ((upper[r] as number) === 0 && br >= 0) held[r] = 1;
  }
  const maxIterations = 4 * size + 8;
  for (let it = 0; it < maxIterations; it++) {
    const free: number[] = [];
    for (let r = 0; r < size; r++) if (held[r] === 0) free.push(r);
    const target = solveFree(Q, b, d, free, size);
    if (target === null) return { d, held };
    // Walk from d toward the target; stop at the first bound in the way.
    let t = 1;
    let blocking = -1;
    let blockingSide: -1 | 1 = -1;
    free.forEach((r, i) => {
      const from = d[r] as number;
      const to = target[i] as number;
      if (to < (lower[r] as number) && to < from) {
        const s = ((lower[r] as number) - from) / (to - from);
        if (s < t) {
          t = s;
          blocking = r;
          blockingSide = -1;
        }
      } else if (to > (upper[r] as number) && to > from) {
        const s = ((upper[r] as number) - from) / (to - from);
        if (s < t) {
          t = s;
          blocking = r;
          blockingSide = 1;
        }
      }
    });
    free.forEach((r, i) => {
      const from = d[r] as number;
      d[r] = t === 1 ? (target[i] as number) : from + t * ((target[i] as number) - from);
    });
    if (blocking >= 0) {
      held[blocking] = blockingSide;
      d[blocking] = blockingSide === -1 ? (lower[blocking] as number) : (upper[blocking] as number);
      continue;
    }
    // At the optimum of this working set: release the held variable that most wants to move in.
    let release = -1;
    let worst = 0;
    for (let r = 0; r < size; r++) {
      if (held[r] === 0) continue;
      let gradient = -(b[r] as number);
      for (let s = 0; s < size; s++) gradient += (Q[r * size + s] as number) * (d[s] as number);
      // Held at lower, the optimum wants the gradient >= 0; at upper, <= 0.
      const pull = held[r] === -1 ? -gradient : gradient;
      if (pull > worst) {
        worst = pull;
        release = r;
      }
    }
    if (release < 0) return { d, held };
    held[release] = 0;
  }
  return { d, held };
}

/** Q_FF y = b_F - Q_FH d_H: the free variables' optimum with the held ones fixed. */
function solveFree(
  Q: ArrayLike<number>,
  b: ArrayLike<number>,
  d: readonly number[],
  free: readonly number[],
  size: number,
): number[] | null {
  const f = free.length;
  if (f === 0) return [];
  const isFree = new Uint8Array(size);
  for (const r of free) isFree[r] = 1;
  const sub = new Float64Array(f * f);
  const rhs = new Float64Array(f);
  free.forEach((r, i) => {
    let v = b[r] as number;
    for (let s = 0; s < size; s++) if (!isFree[s]) v -= (Q[r * size + s] as number) * (d[s] as number);
    rhs[i] = v;
    free.forEach((s, j) => {
      sub[i * f + j] = Q[r * size + s] as number;
    });
  });
  // Scaled to a unit diagonal and strictly convex, the system's pivots are at least its smallest
  // eigenvalue (the regularisation, ~1e-13): only a far smaller pivot means singular.
  return solveLinearSystem(sub, f, rhs, 1e-15);
}
