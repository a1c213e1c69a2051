import { formatPrice, formatResidual } from "./format.js";

/** uPlot is loaded by a classic script before the modules run (see index.html). */
const uPlot = globalThis.uPlot;

const PALETTE = ["#2563eb", "#db2777", "#059669", "#d97706", "#7c3aed", "#0891b2", "#dc2626", "#65a30d"];
const AXIS = {
  stroke: "#64748b",
  grid: { stroke: "#eef2f6", width: 1 },
  ticks: { stroke: "#e2e8f0", width: 1 },
};

export function resourceColor(index) {
  return PALETTE[index % PALETTE.length];
}

/**
 * The x of every chart is the closed round's place in this node's history (seq), so one path
 * runs across epochs; ticks name the round within its epoch and a dashed line marks each epoch.
 */
function roundAxis(chart) {
  return {
    ...AXIS,
    label: "round (dashed line: a new epoch)",
    labelSize: 20,
    incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000],
    values: (_u, splits) => splits.map((s) => chart.roundAt.get(s)?.round ?? ""),
  };
}

function xSeries(chart) {
  return {
    label: "round",
    value: (_u, seq) => {
      const r = chart.roundAt.get(seq);
      return r ? `epoch ${r.epoch} · round ${r.round}` : "—";
    },
  };
}

/** Dashed vertical lines where an epoch's first round sits, labelled with the epoch. */
function epochLines(chart) {
  return (u) => {
    const { ctx, bbox } = u;
    const [min, max] = [u.scales.x.min, u.scales.x.max];
    ctx.save();
    ctx.strokeStyle = "#94a3b8";
    ctx.fillStyle = "#64748b";
    ctx.setLineDash([4, 4]);
    ctx.lineWidth = devicePixelRatio;
    ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
    for (const e of chart.epochs) {
      if (e.fromSeq <= min || e.fromSeq > max) continue;
      const x = Math.round(u.valToPos(e.fromSeq - 0.5, "x", true));
      ctx.beginPath();
      ctx.moveTo(x, bbox.top);
      ctx.lineTo(x, bbox.top + bbox.height);
      ctx.stroke();
      ctx.fillText(`epoch ${e.epoch}`, x + 4 * devicePixelRatio, bbox.top + 12 * devicePixelRatio);
    }
    ctx.restore();
  };
}

/** Off the chart, the legend shows the latest round's values rather than dashes. */
function showLatest(u) {
  const last = u.data[0].length - 1;
  if (u.cursor.idx == null && last >= 0) u.setLegend({ idx: last });
}

function createChart(container, { series, scales, yAxis, extraDraw }) {
  const chart = { roundAt: new Map(), epochs: [] };
  const size = () => ({
    width: Math.max(240, container.clientWidth),
    height: container.clientWidth < 500 ? 200 : 250,
  });
  const draw = [epochLines(chart), ...(extraDraw ? [extraDraw] : [])];
  const u = new uPlot(
    {
      ...size(),
      scales: { x: { time: false }, ...scales },
      axes: [roundAxis(chart), { ...AXIS, ...yAxis }],
      series: [xSeries(chart), ...series],
      cursor: { drag: { x: true, y: false } },
      hooks: {
        draw,
        // The number of points the chart holds, for people and for the browser test.
        setData: [
          (self) => {
            container.setAttribute("data-points", String(self.data[0].length));
            showLatest(self);
          },
        ],
        setCursor: [showLatest],
      },
    },
    [[], ...series.map(() => [])],
    container,
  );
  new ResizeObserver(() => u.setSize(size())).observe(container);
  return {
    set(rounds, epochs, columns) {
      chart.roundAt = new Map(rounds.map((r) => [r.seq, r]));
      chart.epochs = epochs;
      u.setData([rounds.map((r) => r.seq), ...columns]);
    },
  };
}

export function createPriceChart(container, resources) {
  const chart = createChart(container, {
    series: resources.map((r, i) => ({
      label: r.id,
      stroke: resourceColor(i),
      width: 2,
      value: (_u, v) => formatPrice(v),
      points: { size: 6 },
    })),
    scales: {},
    yAxis: { label: "price", labelSize: 20, size: 60 },
  });
  return {
    update: (rounds, epochs) =>
      chart.set(
        rounds,
        epochs,
        resources.map((_, i) => rounds.map((r) => r.prices[i] ?? null)),
      ),
  };
}

/** Powers of ten from min to max, every k-th decade so that at most `most` are drawn. */
function decades(min, max, most) {
  const lo = Math.floor(Math.log10(min));
  const hi = Math.ceil(Math.log10(max));
  const step = Math.max(1, Math.ceil((hi - lo) / most));
  const out = [];
  for (let e = hi; e >= lo; e -= step) out.unshift(10 ** e);
  return out;
}

export function createResidualChart(container, tolerance) {
  const toleranceLine = (u) => {
    const y = Math.round(u.valToPos(tolerance, "y", true));
    const { ctx, bbox } = u;
    if (y < bbox.top || y > bbox.top + bbox.height) return;
    ctx.save();
    ctx.strokeStyle = "#10b981";
    ctx.setLineDash([6, 4]);
    ctx.lineWidth = devicePixelRatio;
    ctx.beginPath();
    ctx.moveTo(bbox.left, y);
    ctx.lineTo(bbox.left + bbox.width, y);
    ctx.stroke();
    ctx.restore();
  };
  const chart = createChart(container, {
    series: [
      {
        label: "residual",
        stroke: "#0f172a",
        width: 2,
        value: (_u, v) => formatResidual(v),
        points: { size: 6 },
      },
    ],
    // Log scale, always reaching down to the tolerance line and one decade below it.
    scales: {
      y: {
        distr: 3,
        range: (_u, min, max) =>
          uPlot.rangeLog(
            Math.min(min ?? tolerance, tolerance / 10),
            Math.max(max ?? 1, tolerance * 10),
            10,
            true,
          ),
      },
    },
    yAxis: {
      size: 60,
      splits: (_u, _axis, min, max) => decades(min, max, 5),
      // uPlot's log axis drops some decade labels by default; these splits are already sparse.
      filter: (_u, splits) => splits,
      values: (_u, splits) => splits.map((v) => (v ? v.toExponential(0) : "")),
    },
    extraDraw: toleranceLine,
  });
  return {
    // A residual of exactly 0 has no place on a log scale: it is left as a gap.
    update: (rounds, epochs) =>
      chart.set(rounds, epochs, [rounds.map((r) => (r.residual > 0 ? r.residual : null))]),
  };
}
