import { describe, expect, it } from "vitest";
import { priceRuleFrom } from "../src/price-rule-flags.ts";

describe("priceRuleFrom: which newton model a contract gets", () => {
  it("a new contract (no base, no flags) gets the curve model", () => {
    expect(priceRuleFrom(undefined, {}, "t")).toEqual({ kind: "newton", model: "curves" });
    expect(priceRuleFrom(undefined, { rule: "newton" }, "t")).toEqual({ kind: "newton", model: "curves" });
  });

  it("a newton base keeps its model, --rule newton restated or not (no model written means hinges)", () => {
    expect(priceRuleFrom({ kind: "newton" }, {}, "t")).toBeUndefined();
    expect(priceRuleFrom({ kind: "newton" }, { rule: "newton" }, "t")).toEqual({ kind: "newton" });
    expect(priceRuleFrom({ kind: "newton", model: "sums" }, { rule: "newton" }, "t")).toEqual({
      kind: "newton",
      model: "sums",
    });
  });

  it("a gradient base switched to newton gets curves; --newton-model names any model", () => {
    expect(priceRuleFrom({ kind: "gradient" }, { rule: "newton" }, "t")).toEqual({
      kind: "newton",
      model: "curves",
    });
    expect(priceRuleFrom({ kind: "newton" }, { newtonModel: "curves" }, "t")).toEqual({
      kind: "newton",
      model: "curves",
    });
    expect(priceRuleFrom(undefined, { newtonModel: "hinges" }, "t")).toEqual({ kind: "newton" });
  });
});
