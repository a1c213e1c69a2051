import { createHash } from "node:crypto";
import type { CommitMessage } from "../src/wire/messages.ts";

/**
 * docs/protocol.md §1's canonical JSON written out by hand (sorted keys, no spaces), so that tests
 * check the implementation's encodings against the spec rather than against themselves.
 */
export function specCanonical(v: unknown): string {
  return Array.isArray(v)
    ? `[${v.map(specCanonical).join(",")}]`
    : v !== null && typeof v === "object"
      ? `{${Object.keys(v)
          .sort()
          .map((k) => `${JSON.stringify(k)}:${specCanonical((v as Record<string, unknown>)[k])}`)
          .join(",")}}`
      : JSON.stringify(v);
}

/** The spec's body digest (§8): sha256 of the canonical JSON of the commit without agent and sig. */
export function specDigest(m: CommitMessage): string {
  const { agent: _a, sig: _s, ...body } = m;
  return createHash("sha256").update(specCanonical(body)).digest("hex");
}
