/**
 * Canonical JSON: object keys sorted by UTF-16 code unit order, no whitespace, numbers in
 * ECMAScript's shortest round-trip form. Every hash and signature in walras is taken over these
 * bytes, so two implementations that agree on the value agree on the bytes.
 */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };

export function canonicalJson(value: unknown): string {
  return encode(value, "$");
}

export function canonicalBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalJson(value));
}

function encode(value: unknown, path: string): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "number":
      // NaN and infinities have no JSON form; letting them through would make two nodes hash "null".
      if (!Number.isFinite(value)) throw new TypeError(`${path}: non-finite number has no canonical form`);
      return JSON.stringify(Object.is(value, -0) ? 0 : value);
    case "string":
      return JSON.stringify(value);
    case "object": {
      if (Array.isArray(value)) return `[${value.map((v, i) => encode(v, `${path}[${i}]`)).join(",")}]`;
      const entries = Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${encode(v, `${path}.${k}`)}`).join(",")}}`;
    }
    default:
      throw new TypeError(`${path}: ${typeof value} has no canonical JSON form`);
  }
}
