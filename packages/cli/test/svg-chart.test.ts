import { describe, expect, it } from "vitest";
import { niceScale } from "../src/chart/nice-scale.ts";
import { escapeXml, renderSvgPanels } from "../src/chart/svg-panels.ts";

describe("niceScale", () => {
  it.each([
    [0, 1.3, [0, 0.5, 1, 1.5]],
    [283, 463, [250, 300, 350, 400, 450, 500]],
    [0, 39, [0, 5, 10, 15, 20, 25, 30, 35, 40]],
    [0.1, 0.3, [0.1, 0.15, 0.2, 0.25, 0.3]],
  ])("covers [%d, %d] with round ticks", (lo, hi, ticks) => {
    const s = niceScale(lo, hi, lo === 0 && hi === 39 ? 9 : 5);
    expect(s.ticks).toEqual(ticks);
    expect(s.lo).toBeLessThanOrEqual(lo);
    expect(s.hi).toBeGreaterThanOrEqual(hi);
  });

  it("opens a band around a flat series", () => {
    const s = niceScale(50, 50);
    expect(s.lo).toBeLessThan(50);
    expect(s.hi).toBeGreaterThan(50);
  });
});

describe("renderSvgPanels", () => {
  it("breaks a line at a gap, marks points, and escapes text", () => {
    const svg = renderSvgPanels({
      title: "a < b & c",
      xLabel: "slot",
      x: [0, 1, 2, 3, 4],
      markers: [{ x: 2, label: "shock" }],
      panels: [
        {
          title: "one",
          series: [
            { name: "line", values: [1, 2, null, 4, 5], color: "#000001", style: "line" },
            { name: "dots", values: [1, null, null, null, 5], color: "#000002", style: "points" },
            { name: "marks", values: [null, 3, null, null, null], color: "#000003", style: "crosses" },
          ],
        },
      ],
    });
    expect(svg).toContain("a &#60; b &#38; c");
    expect(svg.match(/<path d="M[^"]*" fill="none" stroke="#000001"/g)).toHaveLength(2);
    // Two data points and the legend swatch.
    expect(svg.match(/<circle [^>]*stroke="#000002"/g)).toHaveLength(3);
    expect(svg.match(/<path d="M[^"]*" stroke="#000003"/g)).toHaveLength(2);
    expect(svg).toContain(">shock</text>");
    expect(escapeXml(`"'`)).toBe("&#34;&#39;");
  });
});
