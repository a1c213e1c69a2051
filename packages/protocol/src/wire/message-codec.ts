import { canonicalBytes, canonicalJson } from "./canonical-json.ts";
import { sha256Hex } from "./hash.ts";
import { asDigest, type Digest } from "./ids.ts";
import { type WireMessage, wireMessageSchema } from "./messages.ts";
import { formatPath } from "./parse.ts";

/** Larger messages are rejected before decoding: a commit for 1,000 members fits with room. */
export const MAX_MESSAGE_BYTES = 256 * 1024;

export type DecodeResult =
  | { ok: true; message: WireMessage }
  | { ok: false; reason: "oversize" | "malformed" | "schema"; detail: string };

export function encodeMessage(message: WireMessage): Uint8Array {
  return canonicalBytes(message);
}

/**
 * Bytes to a typed message: size limit, UTF-8 JSON, schema (which also rejects NaN-free but
 * absurd numbers). Canonical form is required, so one message has one encoding and one digest.
 */
export function decodeMessage(bytes: Uint8Array): DecodeResult {
  if (bytes.length > MAX_MESSAGE_BYTES)
    return { ok: false, reason: "oversize", detail: `${bytes.length} bytes > ${MAX_MESSAGE_BYTES}` };
  let text: string;
  let json: unknown;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    json = JSON.parse(text);
  } catch (e) {
    return { ok: false, reason: "malformed", detail: (e as Error).message };
  }
  const parsed = wireMessageSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      reason: "schema",
      detail: issue ? `${formatPath(issue.path)}: ${issue.message}` : "invalid",
    };
  }
  if (canonicalJson(parsed.data) !== text)
    return { ok: false, reason: "malformed", detail: "not canonical JSON" };
  const message = parsed.data as WireMessage;
  // The bytes are canonical, so they are the encoding: hash them once, here.
  digests.set(message, asDigest(sha256Hex(bytes)));
  return { ok: true, message };
}

/**
 * Digests by message object. Messages are immutable once decoded or signed, and a node asks for
 * the digest of the same message several times on its way in (slot, store, demand set).
 */
const digests = new WeakMap<WireMessage, Digest>();

/** The id of a message: the digest of its canonical bytes (signature included). */
export function messageDigest(message: WireMessage): Digest {
  let digest = digests.get(message);
  if (!digest) {
    digest = asDigest(sha256Hex(encodeMessage(message)));
    digests.set(message, digest);
  }
  return digest;
}
