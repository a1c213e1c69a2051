/**
 * A non-negative integer query parameter: `fallback` when absent, null when it is not digits or
 * is past Number.MAX_SAFE_INTEGER (a 24-digit offset turned into 1e+23, and was echoed so).
 */
export function queryInteger(params: URLSearchParams, name: string, fallback: number): number | null {
  const value = params.get(name);
  if (value === null) return fallback;
  if (!/^\d+$/.test(value)) return null;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : null;
}

/** The one-line answer to a query parameter queryInteger refused, naming it. */
export const NOT_A_QUERY_INTEGER = (name: string): string =>
  `${name}: must be a non-negative integer of at most ${Number.MAX_SAFE_INTEGER}`;
