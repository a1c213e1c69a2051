/**
 * A logarithm to base 2 made of halvings and doublings only, exact in binary floating point:
 * lg(m 2^e) = e + (m - 1) for 1 <= m < 2 (within 0.09 of log2). Math.log is not specified to the
 * last bit, and every node (and any other implementation) must reach the same stall decision.
 */
export function lg(x: number): number {
  if (!(x > 0 && Number.isFinite(x))) throw new RangeError(`lg: ${x} is not a positive finite number`);
  let m = x;
  let e = 0;
  while (m >= 2) {
    m /= 2;
    e += 1;
  }
  while (m < 1) {
    m *= 2;
    e -= 1;
  }
  return e + (m - 1);
}

/**
 * lg's inverse, 2^floor(y) (1 + y - floor(y)), made of doublings and halvings too: where every
 * node must compute the same bits, it stands in for exp and 2^y, which are not specified to the
 * last bit either.
 */
export function lgInverse(y: number): number {
  if (!Number.isFinite(y)) throw new RangeError(`lgInverse: ${y} is not finite`);
  const e = Math.floor(y);
  let v = 1 + (y - e);
  for (let i = 0; i < e; i++) v *= 2;
  for (let i = 0; i > e; i--) v /= 2;
  return v;
}
