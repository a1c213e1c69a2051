import { describe, expect, it } from "vitest";
import { printable } from "../src/printable.ts";

describe("printable", () => {
  it("spells out controls and bidi overrides, and reads the same printed twice", () => {
    expect(printable("a\x1b]0;X\x07b\n")).toBe("a\\x1b]0;X\\x07b\\x0a");
    expect(printable(printable("a\x1bb\u202e"))).toBe(printable("a\x1bb\u202e"));
    expect(printable("\x9b")).toBe("\\x9b");
    expect(printable("abc\u202Efed")).toBe("abc\\u202efed");
    expect(printable("\u2066x\u2069")).toBe("\\u2066x\\u2069");
    expect(printable("naïve ∑ 市场")).toBe("naïve ∑ 市场");
  });
});
