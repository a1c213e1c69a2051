const BARS = "▁▂▃▄▅▆▇█";

/** The last `width` values as a one-line bar chart, scaled between their own min and max. */
export function sparkline(values: readonly number[], width = 60): string {
  const shown = values.slice(-width);
  if (shown.length === 0) return "";
  const lo = Math.min(...shown);
  const hi = Math.max(...shown);
  const top = BARS.length - 1;
  return shown.map((v) => BARS[hi === lo ? top : Math.round(((v - lo) / (hi - lo)) * top)]).join("");
}
