import type { Parsed } from "@walras/protocol";
import type { z } from "zod";

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * One body of a walras stream protocol (a sync request, a peer-exchange answer): UTF-8 JSON that
 * `schema` accepts. On failure, the one-line reason, naming the field at fault.
 */
export function parseJsonBody<S extends z.ZodType>(
  bytes: Uint8Array,
  schema: S,
  noun: string,
): Parsed<z.infer<S>> {
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(bytes));
  } catch (err) {
    return {
      ok: false,
      error: `${noun} is not UTF-8 JSON: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join(".") : noun;
    return { ok: false, error: `invalid ${noun} at ${where}: ${issue?.message ?? "malformed"}` };
  }
  return { ok: true, value: parsed.data };
}
