/**
 * Solves A x = b for a small dense square A (row-major, size x size) by Gaussian elimination with
 * partial pivoting. Returns null when A is singular or ill-conditioned: a pivot smaller than
 * `relativePivotTolerance` times A's largest entry. Only + - * / on the inputs, in a fixed order,
 * so every node gets the same bits from the same A and b.
 */
export function solveLinearSystem(
  matrix: ArrayLike<number>,
  size: number,
  rhs: ArrayLike<number>,
  relativePivotTolerance = 1e-12,
): number[] | null {
  const a = Float64Array.from({ length: size * size }, (_, i) => matrix[i] ?? 0);
  const b = Float64Array.from({ length: size }, (_, i) => rhs[i] ?? 0);
  let scale = 0;
  for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(a[i] as number));
  if (!(scale > 0) || !Number.isFinite(scale)) return null;
  const tol = relativePivotTolerance * scale;
  for (let col = 0; col < size; col++) {
    let pivot = col;
    for (let row = col + 1; row < size; row++)
      if (Math.abs(a[row * size + col] as number) > Math.abs(a[pivot * size + col] as number)) pivot = row;
    if (!(Math.abs(a[pivot * size + col] as number) > tol)) return null;
    if (pivot !== col) {
      for (let j = 0; j < size; j++) swap(a, col * size + j, pivot * size + j);
      swap(b, col, pivot);
    }
    const d = a[col * size + col] as number;
    for (let row = col + 1; row < size; row++) {
      const f = (a[row * size + col] as number) / d;
      if (f === 0) continue;
      for (let j = col; j < size; j++)
        a[row * size + j] = (a[row * size + j] as number) - f * (a[col * size + j] as number);
      b[row] = (b[row] as number) - f * (b[col] as number);
    }
  }
  const x = new Array<number>(size).fill(0);
  for (let row = size - 1; row >= 0; row--) {
    let sum = b[row] as number;
    for (let j = row + 1; j < size; j++) sum -= (a[row * size + j] as number) * (x[j] as number);
    x[row] = sum / (a[row * size + row] as number);
  }
  return x;
}

function swap(v: Float64Array, i: number, j: number): void {
  const t = v[i] as number;
  v[i] = v[j] as number;
  v[j] = t;
}
