/**
 * The sum of one counter's samples in a Prometheus text exposition, optionally only those whose
 * label `label.name` equals `label.value`. Enough for the bench, which reads its own node's counters.
 */
export function counterSum(text: string, metric: string, label?: { name: string; value: string }): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(metric)) continue;
    const rest = line.slice(metric.length);
    if (rest[0] !== " " && rest[0] !== "{") continue;
    if (label && !rest.includes(`${label.name}="${label.value}"`)) continue;
    const value = Number(line.slice(line.lastIndexOf(" ") + 1));
    if (Number.isFinite(value)) sum += value;
  }
  return sum;
}

/**
 * One counter's samples summed by the value of label `by` (samples without it left out),
 * optionally only those whose label `label.name` equals `label.value`.
 */
export function counterSumsBy(
  text: string,
  metric: string,
  by: string,
  label?: { name: string; value: string },
): Map<string, number> {
  const sums = new Map<string, number>();
  const pattern = new RegExp(`[{,]${by}="([^"]*)"`);
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${metric}{`)) continue;
    if (label && !line.includes(`${label.name}="${label.value}"`)) continue;
    const key = pattern.exec(line)?.[1];
    const value = Number(line.slice(line.lastIndexOf(" ") + 1));
    if (key !== undefined && Number.isFinite(value)) sums.set(key, (sums.get(key) ?? 0) + value);
  }
  return sums;
}
