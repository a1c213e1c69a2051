import type { z } from "zod";

/** A result that says how it went, instead of throwing across the pure/IO boundary. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * Validate `input` against `schema`; on failure one line naming the source and the first bad
 * field, e.g. `scenario.json: agents[3].valuation.alpha: must be > 0`.
 */
export function parseWith<S extends z.ZodType>(
  schema: S,
  input: unknown,
  source: string,
): Parsed<z.output<S>> {
  const r = schema.safeParse(input);
  if (r.success) return { ok: true, value: r.data };
  const issue = r.error.issues[0];
  if (!issue) return { ok: false, error: `${source}: invalid` };
  const path = formatPath(issue.path);
  return { ok: false, error: `${source}: ${path ? `${path}: ` : ""}${humanMessage(issue)}` };
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

function humanMessage(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "too_small":
      if (issue.origin === "number") return `must be ${issue.inclusive ? ">=" : ">"} ${issue.minimum}`;
      if (issue.origin === "array") return `must have at least ${issue.minimum} entries`;
      return issue.message;
    case "too_big":
      if (issue.origin === "number") return `must be ${issue.inclusive ? "<=" : "<"} ${issue.maximum}`;
      return issue.message;
    case "invalid_type":
      return `expected ${issue.expected}`;
    case "unrecognized_keys":
      return `unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.join(", ")}`;
    case "invalid_union":
      return "does not match any allowed kind";
    default:
      return issue.message;
  }
}
