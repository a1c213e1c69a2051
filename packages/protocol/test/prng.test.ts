import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createPrng, nextSeed, shuffled, uniform } from "../src/random/prng.ts";

/**
 * An independent xoshiro128** / splitmix32 written with BigInt and explicit 2^32 masks, straight
 * from the reference C code, so the fast Math.imul version is checked against other arithmetic.
 */
function referenceStream(seed: number, count: number): number[] {
  const M = 0xffffffffn;
  const mul = (a: bigint, b: bigint) => (a * b) & M;
  const rotl = (x: bigint, k: bigint) => ((x << k) | (x >> (32n - k))) & M;
  let sm = BigInt(seed >>> 0);
  const splitmix = () => {
    sm = (sm + 0x9e3779b9n) & M;
    let z = sm;
    z = mul(z ^ (z >> 16n), 0x85ebca6bn);
    z = mul(z ^ (z >> 13n), 0xc2b2ae35n);
    return z ^ (z >> 16n);
  };
  const s = [splitmix(), splitmix(), splitmix(), splitmix()] as [bigint, bigint, bigint, bigint];
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const result = mul(rotl(mul(s[1], 5n), 7n), 9n);
    const t = (s[1] << 9n) & M;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11n);
    out.push(Number(result) / 4294967296);
  }
  return out;
}

describe("createPrng", () => {
  it("matches an independent BigInt implementation of xoshiro128** for any seed", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (seed) => {
        const prng = createPrng(seed);
        const got = Array.from({ length: 50 }, () => prng());
        expect(got).toEqual(referenceStream(seed, 50));
      }),
      { numRuns: 50 },
    );
  });

  it("gives the same stream for the same seed and different streams for nearby seeds", () => {
    const a = createPrng(7);
    const b = createPrng(7);
    const c = createPrng(8);
    const sa = Array.from({ length: 10 }, () => a());
    expect(Array.from({ length: 10 }, () => b())).toEqual(sa);
    expect(Array.from({ length: 10 }, () => c())).not.toEqual(sa);
  });

  it("is roughly uniform on [0, 1): chi-square over 20 bins", () => {
    const prng = createPrng(12345);
    const bins = new Array<number>(20).fill(0);
    const n = 100_000;
    let lo = 1;
    let hi = 0;
    for (let i = 0; i < n; i++) {
      const u = prng();
      lo = Math.min(lo, u);
      hi = Math.max(hi, u);
      const k = Math.floor(u * 20);
      bins[k] = (bins[k] ?? 0) + 1;
    }
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThan(1);
    const expected = n / 20;
    const chi2 = bins.reduce((s, o) => s + (o - expected) ** 2 / expected, 0);
    // 19 degrees of freedom: the 99.9% quantile is 43.8.
    expect(chi2).toBeLessThan(43.8);
  });

  it("rejects a non-integer seed", () => {
    expect(() => createPrng(1.5)).toThrow(RangeError);
  });
});

describe("uniform, shuffled, nextSeed", () => {
  it("uniform stays in [lo, hi)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1000 }),
        fc.double({ min: -100, max: 100, noNaN: true }),
        fc.double({ min: 0.001, max: 100, noNaN: true }),
        (seed, lo, width) => {
          const prng = createPrng(seed);
          for (let i = 0; i < 20; i++) {
            const u = uniform(prng, lo, lo + width);
            expect(u).toBeGreaterThanOrEqual(lo);
            expect(u).toBeLessThanOrEqual(lo + width);
          }
        },
      ),
    );
  });

  it("shuffled returns a permutation and leaves its input alone", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), fc.array(fc.integer()), (seed, items) => {
        const copy = [...items];
        const out = shuffled(createPrng(seed), items);
        expect(items).toEqual(copy);
        expect([...out].sort((a, b) => a - b)).toEqual([...items].sort((a, b) => a - b));
      }),
    );
  });

  it("shuffled reaches every order of three items about equally often", () => {
    const prng = createPrng(99);
    const counts = new Map<string, number>();
    for (let i = 0; i < 6000; i++) {
      const key = shuffled(prng, [1, 2, 3]).join("");
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(6);
    for (const c of counts.values()) expect(Math.abs(c - 1000)).toBeLessThan(150);
  });

  it("nextSeed gives 32-bit integers", () => {
    const prng = createPrng(3);
    for (let i = 0; i < 100; i++) {
      const s = nextSeed(prng);
      expect(Number.isInteger(s)).toBe(true);
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThan(2 ** 32);
    }
  });
});
