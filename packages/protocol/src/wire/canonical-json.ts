/**
 * Canonical JSON: object keys sorted by UTF-16 code unit order, no whitespace, numbers in
 * ECMAScript's shortest round-trip form. Every hash and signature in walras is taken over these
 * bytes, so two implementations that agree on the value agree on the bytes.
 */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };

export function canonicalJson(value: unknown): string {
  return encode(value, "$");
}

const utf8 = new TextEncoder();

export function canonicalBytes(value: unknown): Uint8Array {
  return utf8.encode(canonicalJson(value));
}

/** One member of an object in canonical form: its key and its encoding `"key":value`. */
export interface CanonicalMember {
  readonly key: string;
  readonly json: string;
}

/**
 * An object's members, each encoded, in canonical order. The canonical object is their join
 * (`canonicalObject`), so a caller that needs the object both whole and without some members
 * (a message and the bytes it signs) encodes each value once.
 */
export function canonicalMembers(value: object, path = "$"): CanonicalMember[] {
  return Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ({ key: k, json: `${JSON.stringify(k)}:${encode(v, `${path}.${k}`)}` }))
    .sort(byKey);
}

/** Two objects' members as the members of one object with both's keys (none in common). */
export function mergeMembers(
  a: readonly CanonicalMember[],
  b: readonly CanonicalMember[],
): CanonicalMember[] {
  return [...a, ...b].sort(byKey);
}

/** Canonical order: by key, UTF-16 code unit by code unit. */
const byKey = (a: CanonicalMember, b: CanonicalMember): number =>
  a.key < b.key ? -1 : a.key > b.key ? 1 : 0;

export function canonicalObject(members: readonly CanonicalMember[]): string {
  return `{${members.map((m) => m.json).join(",")}}`;
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
      return canonicalObject(canonicalMembers(value, path));
    }
    default:
      throw new TypeError(`${path}: ${typeof value} has no canonical JSON form`);
  }
}
