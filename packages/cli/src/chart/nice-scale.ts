/**
 * Axis ticks at "nice" round numbers (1, 2 or 5 times a power of ten) covering [min, max], after
 * Heckbert's "Nice numbers for graph labels" (Graphics Gems, 1990). A dozen lines, so written here
 * rather than pulling in a plotting library's scale module for one function.
 */
export interface NiceScale {
  readonly lo: number;
  readonly hi: number;
  readonly ticks: readonly number[];
}

export function niceScale(min: number, max: number, targetTicks = 5): NiceScale {
  if (!(Number.isFinite(min) && Number.isFinite(max)))
    throw new RangeError("niceScale: bounds must be finite");
  if (max < min) [min, max] = [max, min];
  if (max === min) {
    // A flat series still needs an axis: open a band around it.
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const step = niceNumber((max - min) / Math.max(1, targetTicks - 1));
  const lo = Math.floor(min / step) * step;
  const hi = Math.ceil(max / step) * step;
  const ticks: number[] = [];
  // Rounding to the step's own precision keeps 0.30000000000000004 off the axis.
  const digits = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  for (let t = lo; t <= hi + step / 2; t += step) ticks.push(Number(t.toFixed(digits)));
  return { lo, hi, ticks };
}

function niceNumber(range: number): number {
  const exponent = Math.floor(Math.log10(range));
  const fraction = range / 10 ** exponent;
  const nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
  return nice * 10 ** exponent;
}
