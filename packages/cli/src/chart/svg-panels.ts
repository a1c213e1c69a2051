import { type NiceScale, niceScale } from "./nice-scale.ts";

/**
 * A figure of panels stacked over one shared x axis, as a standalone SVG document: what the
 * dynamics experiment draws (price, welfare, agents and rounds over slots). Plain SVG 1.1 with
 * inline attributes, so it renders the same in a browser, in GitHub's markdown view and in rsvg.
 */
export interface ChartSeries {
  readonly name: string;
  /** One value per x; null leaves a gap. */
  readonly values: readonly (number | null)[];
  readonly color: string;
  /** "line": joined points; "dashed": a dashed line; "points": open circles; "crosses": x marks. */
  readonly style: "line" | "dashed" | "points" | "crosses";
}

export interface ChartPanel {
  readonly title: string;
  readonly series: readonly ChartSeries[];
  /** Keep 0 on the y axis (counts, rounds). */
  readonly fromZero?: boolean;
}

export interface ChartFigure {
  readonly title: string;
  readonly subtitle?: string;
  readonly xLabel: string;
  readonly x: readonly number[];
  readonly panels: readonly ChartPanel[];
  /** Vertical rules across every panel (a shock, its end). */
  readonly markers?: readonly { readonly x: number; readonly label: string }[];
}

const WIDTH = 900;
const LEFT = 70;
const PLOT_WIDTH = 560;
const LEGEND_X = LEFT + PLOT_WIDTH + 24;
const HEADER = 84;
const PANEL_HEIGHT = 170;
const PANEL_GAP = 48;
const FOOTER = 48;
const FONT = 'font-family="Helvetica, Arial, sans-serif"';

export function renderSvgPanels(figure: ChartFigure): string {
  if (figure.x.length === 0) throw new RangeError("a chart needs at least one x value");
  const xs = niceScale(Math.min(...figure.x), Math.max(...figure.x), 9);
  const xAt = (x: number) => LEFT + ((x - xs.lo) / (xs.hi - xs.lo)) * PLOT_WIDTH;
  const height = HEADER + figure.panels.length * (PANEL_HEIGHT + PANEL_GAP) - PANEL_GAP + FOOTER;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" ${FONT} font-size="12">`,
    // The title is the figure's text alternative (screen readers, and biome's a11y lint on docs/).
    `<title>${escapeXml([figure.title, figure.subtitle].filter(Boolean).join(": "))}</title>`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="${LEFT}" y="24" font-size="16" font-weight="bold">${escapeXml(figure.title)}</text>`,
  ];
  if (figure.subtitle)
    parts.push(`<text x="${LEFT}" y="44" fill="#444444">${escapeXml(figure.subtitle)}</text>`);
  figure.panels.forEach((panel, i) => {
    const top = HEADER + i * (PANEL_HEIGHT + PANEL_GAP);
    const last = i === figure.panels.length - 1;
    parts.push(renderPanel(panel, top, figure, xs, xAt, last));
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}

function renderPanel(
  panel: ChartPanel,
  top: number,
  figure: ChartFigure,
  xs: NiceScale,
  xAt: (x: number) => number,
  last: boolean,
): string {
  const values = panel.series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const min = values.length === 0 ? 0 : Math.min(...values, ...(panel.fromZero ? [0] : []));
  const max = values.length === 0 ? 1 : Math.max(...values);
  const ys = niceScale(min, max, 5);
  const bottom = top + PANEL_HEIGHT;
  const yAt = (y: number) => bottom - ((y - ys.lo) / (ys.hi - ys.lo)) * PANEL_HEIGHT;
  const out: string[] = [
    `<g>`,
    `<text x="${LEFT}" y="${top - 8}" font-weight="bold">${escapeXml(panel.title)}</text>`,
  ];
  out.push(
    `<rect x="${LEFT}" y="${top}" width="${PLOT_WIDTH}" height="${PANEL_HEIGHT}" fill="#fafafa" stroke="#999999"/>`,
  );
  for (const t of ys.ticks) {
    const y = fmt(yAt(t));
    out.push(`<line x1="${LEFT}" x2="${LEFT + PLOT_WIDTH}" y1="${y}" y2="${y}" stroke="#e2e2e2"/>`);
    out.push(
      `<text x="${LEFT - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${tickLabel(t)}</text>`,
    );
  }
  for (const t of xs.ticks) {
    const x = fmt(xAt(t));
    out.push(`<line x1="${x}" x2="${x}" y1="${top}" y2="${bottom}" stroke="#eeeeee"/>`);
    if (last) out.push(`<text x="${x}" y="${bottom + 16}" text-anchor="middle">${tickLabel(t)}</text>`);
  }
  if (last)
    out.push(
      `<text x="${LEFT + PLOT_WIDTH / 2}" y="${bottom + 36}" text-anchor="middle">${escapeXml(figure.xLabel)}</text>`,
    );
  for (const m of figure.markers ?? []) {
    const x = fmt(xAt(m.x));
    out.push(
      `<line x1="${x}" x2="${x}" y1="${top}" y2="${bottom}" stroke="#cc3333" stroke-dasharray="5 4"/>`,
    );
    out.push(`<text x="${fmt(xAt(m.x) + 4)}" y="${top + 14}" fill="#cc3333">${escapeXml(m.label)}</text>`);
  }
  for (const s of panel.series) out.push(renderSeries(s, figure.x, xAt, yAt));
  panel.series.forEach((s, k) => {
    out.push(legendEntry(s, top + 10 + k * 20));
  });
  out.push("</g>");
  return out.join("\n");
}

function renderSeries(
  s: ChartSeries,
  xs: readonly number[],
  xAt: (x: number) => number,
  yAt: (y: number) => number,
): string {
  const points = s.values.map((v, i) => (v === null ? null : ([xAt(xs[i] as number), yAt(v)] as const)));
  const style = s.style;
  if (style === "points" || style === "crosses")
    return points
      .filter((p) => p !== null)
      .map(([x, y]) => marker(style, s.color, x, y))
      .join("\n");
  // A gap (null) ends one path and starts the next.
  const runs: string[] = [];
  let run: string[] = [];
  for (const p of points) {
    if (p === null) {
      if (run.length > 0) runs.push(run.join(" "));
      run = [];
    } else run.push(`${run.length === 0 ? "M" : "L"}${fmt(p[0])},${fmt(p[1])}`);
  }
  if (run.length > 0) runs.push(run.join(" "));
  const dash = s.style === "dashed" ? ' stroke-dasharray="6 4"' : "";
  const paths = runs.map(
    (d) => `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${dash} stroke-linejoin="round"/>`,
  );
  // A lone point between gaps would draw nothing as a path: give every point a dot on a solid line.
  if (s.style === "line")
    for (const p of points)
      if (p !== null) paths.push(`<circle cx="${fmt(p[0])}" cy="${fmt(p[1])}" r="2" fill="${s.color}"/>`);
  return paths.join("\n");
}

function marker(style: "points" | "crosses", color: string, x: number, y: number): string {
  if (style === "points")
    return `<circle cx="${fmt(x)}" cy="${fmt(y)}" r="3.5" fill="none" stroke="${color}" stroke-width="1.5"/>`;
  const d = `M${fmt(x - 4)},${fmt(y - 4)} L${fmt(x + 4)},${fmt(y + 4)} M${fmt(x - 4)},${fmt(y + 4)} L${fmt(x + 4)},${fmt(y - 4)}`;
  return `<path d="${d}" stroke="${color}" stroke-width="2"/>`;
}

function legendEntry(s: ChartSeries, y: number): string {
  const swatch =
    s.style === "points" || s.style === "crosses"
      ? marker(s.style, s.color, LEGEND_X + 12, y)
      : `<line x1="${LEGEND_X}" x2="${LEGEND_X + 24}" y1="${y}" y2="${y}" stroke="${s.color}" stroke-width="2"${s.style === "dashed" ? ' stroke-dasharray="6 4"' : ""}/>`;
  return `${swatch}\n<text x="${LEGEND_X + 32}" y="${y}" dominant-baseline="middle">${escapeXml(s.name)}</text>`;
}

function tickLabel(t: number): string {
  return Number(t.toPrecision(6)).toString();
}

function fmt(n: number): string {
  return Number(n.toFixed(2)).toString();
}

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
