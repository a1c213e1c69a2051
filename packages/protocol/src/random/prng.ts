/**
 * A seeded pseudo-random generator for simulations and experiments.
 *
 * Hand-written on purpose: the point is that a seed names the same stream on every platform and
 * Node version, forever, so an experiment's figures can be reproduced from its seed alone. The
 * algorithm is xoshiro128** (Blackman and Vigna, https://prng.di.unimi.it/xoshiro128starstar.c),
 * whose state is four 32-bit words; every step is 32-bit integer arithmetic (`Math.imul`, shifts,
 * `>>> 0`), which JavaScript defines exactly, so there is no floating-point drift. The 128-bit state
 * is filled from the 32-bit seed with splitmix32, as the xoshiro authors recommend, so that nearby
 * seeds give unrelated streams. Not for cryptography.
 */
export type Prng = () => number;

/** Returns a generator of numbers in [0, 1) with 32 bits of resolution. */
export function createPrng(seed: number): Prng {
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  const next = splitmix32(seed >>> 0);
  let s0 = next();
  let s1 = next();
  let s2 = next();
  let s3 = next();
  return () => {
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return result / 4294967296;
  };
}

/** A uniform draw from [lo, hi). */
export function uniform(prng: Prng, lo: number, hi: number): number {
  return lo + (hi - lo) * prng();
}

/** A uniform integer from [0, n). */
export function uniformInt(prng: Prng, n: number): number {
  return Math.floor(prng() * n);
}

/** Fisher-Yates shuffle into a new array: every order equally likely given a fair generator. */
export function shuffled<T>(prng: Prng, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = uniformInt(prng, i + 1);
    const tmp = out[i] as T;
    out[i] = out[j] as T;
    out[j] = tmp;
  }
  return out;
}

/** A fresh 32-bit seed drawn from a generator: for deriving one independent stream per replication. */
export function nextSeed(prng: Prng): number {
  return Math.floor(prng() * 4294967296) >>> 0;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** splitmix32 (the 32-bit variant of Vigna's splitmix64), used only to expand the seed. */
function splitmix32(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x9e3779b9) | 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}
