import { canonicalMembers, canonicalObject } from "./canonical-json.ts";
import { sha256Hex } from "./hash.ts";
import { asDigest, type Digest } from "./ids.ts";
import {
  type CommitReference,
  commitReferenceSchema,
  type WireMessage,
  wireMessageSchema,
} from "./messages.ts";
import { formatPath } from "./parse.ts";
import { canonicalMembersOf, rememberCanonicalMembers } from "./signing.ts";

/** Larger messages are rejected before decoding: a commit for 1,000 members fits with room. */
export const MAX_MESSAGE_BYTES = 256 * 1024;

export type DecodeResult =
  | { ok: true; message: WireMessage }
  | { ok: false; reason: "oversize" | "malformed" | "schema"; detail: string };

/**
 * The canonical bytes of a message. Kept per message object (messages are immutable once decoded
 * or signed): a received message is stored as the bytes it arrived in, and an own message is
 * stored and published as one encoding.
 */
export function encodeMessage(message: WireMessage): Uint8Array {
  let bytes = encodings.get(message);
  if (!bytes) {
    // A commit rebuilt from a reference has its members remembered: a join, not an 8 KB encoding.
    bytes = utf8Encoder.encode(canonicalObject(canonicalMembersOf(message)));
    encodings.set(message, bytes);
  }
  return bytes;
}

const encodings = new WeakMap<WireMessage, Uint8Array>();
const utf8Encoder = new TextEncoder();
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Bytes to a typed message: size limit, UTF-8 JSON, schema (which also rejects NaN-free but
 * absurd numbers). Canonical form is required, so one message has one encoding and one digest.
 */
export function decodeMessage(bytes: Uint8Array): DecodeResult {
  const json = parseJson(bytes);
  return "ok" in json ? json : messageFrom(bytes, json.text, json.value);
}

/** What a gossip topic carries: a message, or on the commit topic a commit reference. */
export type GossipDecodeResult = DecodeResult | { ok: true; reference: CommitReference };

/** `decodeMessage`, and a commit reference (docs/protocol.md §8) where the bytes are one. */
export function decodeGossip(bytes: Uint8Array): GossipDecodeResult {
  const json = parseJson(bytes);
  if ("ok" in json) return json;
  const { text, value } = json;
  if ((value as { kind?: unknown } | null)?.kind !== "commit-ref") return messageFrom(bytes, text, value);
  const parsed = commitReferenceSchema.safeParse(value);
  if (!parsed.success) return schemaFailure(parsed.error.issues[0]);
  if (canonicalObject(canonicalMembers(parsed.data)) !== text)
    return { ok: false, reason: "malformed", detail: "not canonical JSON" };
  return { ok: true, reference: parsed.data as CommitReference };
}

function parseJson(
  bytes: Uint8Array,
): { text: string; value: unknown } | { ok: false; reason: "oversize" | "malformed"; detail: string } {
  if (bytes.length > MAX_MESSAGE_BYTES)
    return { ok: false, reason: "oversize", detail: `${bytes.length} bytes > ${MAX_MESSAGE_BYTES}` };
  try {
    const text = utf8.decode(bytes);
    return { text, value: JSON.parse(text) };
  } catch (e) {
    return { ok: false, reason: "malformed", detail: (e as Error).message };
  }
}

function schemaFailure(issue: { path: PropertyKey[]; message: string } | undefined): DecodeResult {
  return {
    ok: false,
    reason: "schema",
    detail: issue ? `${formatPath(issue.path)}: ${issue.message}` : "invalid",
  };
}

function messageFrom(bytes: Uint8Array, text: string, json: unknown): DecodeResult {
  const parsed = wireMessageSchema.safeParse(json);
  if (!parsed.success) return schemaFailure(parsed.error.issues[0]);
  // One encoding checks the canonical form and yields the signing bytes (the same members
  // without agent and sig), so verifying the signature later encodes nothing again.
  const members = canonicalMembers(parsed.data);
  if (canonicalObject(members) !== text)
    return { ok: false, reason: "malformed", detail: "not canonical JSON" };
  const message = parsed.data as WireMessage;
  rememberCanonicalMembers(message, members);
  // The bytes are canonical, so they are the encoding: hash them once, here.
  encodings.set(message, bytes);
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
