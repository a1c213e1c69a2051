import { afterEach, describe, expect, it, vi } from "vitest";
import { lg, lgInverse } from "../src/economics/binary-log.ts";
import { firstRegionShaped } from "../src/economics/region-metric.ts";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("lgInverse", () => {
  it.each([1, 2, 3, 0.75, 2 ** 60 * 1.5, 2 ** -30 * 1.375])("undoes lg exactly at %d", (x) => {
    expect(lgInverse(lg(x))).toBe(x);
  });

  it("is 2^y at whole y and linear in between, within 6% of 2^y", () => {
    expect(lgInverse(-3)).toBe(0.125);
    expect(lgInverse(10)).toBe(1024);
    expect(lgInverse(2.5)).toBe(6);
    for (let y = -40; y <= 40; y += 0.37) {
      expect(Math.abs(lgInverse(y) / 2 ** y - 1)).toBeLessThan(0.062);
    }
  });

  it("refuses a non-finite argument", () => {
    expect(() => lgInverse(Number.NaN)).toThrow(/not finite/);
  });
});

describe("the newton rule's first region in curvature units", () => {
  // Math.log and Math.exp are rounded differently by engines and libms (V8 against glibc: 460 and
  // 20,908 differences in 200,000 arguments): nodes must not shape their first box with them.
  it("is shaped with halvings and doublings only, not Math.log or Math.exp", () => {
    const log = vi.spyOn(Math, "log");
    const exp = vi.spyOn(Math, "exp");
    const shaped = firstRegionShaped([2, 2, 2], [1.6940013793605262, 240, 2.4e-4]);
    expect(log).not.toHaveBeenCalled();
    expect(exp).not.toHaveBeenCalled();
    // lg of the three D_r averages to e, and the box is 2 * lgInverse(e) / D_r.
    const mean = lgInverse((lg(1.6940013793605262) + lg(240) + lg(2.4e-4)) / 3);
    expect(shaped).toEqual([(2 * mean) / 1.6940013793605262, (2 * mean) / 240, (2 * mean) / 2.4e-4]);
  });
});
