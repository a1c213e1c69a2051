import { type Signer, verifyAgentSignature } from "./agent-key.ts";
import { type CanonicalMember, canonicalMembers, canonicalObject } from "./canonical-json.ts";
import { PROTOCOL_VERSION, type Unsigned, type WireMessage } from "./messages.ts";

const utf8 = new TextEncoder();
/**
 * Signing bytes by message object, and the canonical members a decoded message was checked
 * with (its signing bytes are those minus `agent` and `sig`). Messages are immutable once
 * decoded or signed; a node asks for the signing bytes of each one it verifies.
 */
const signed = new WeakMap<object, Uint8Array>();
const membersOf = new WeakMap<object, readonly CanonicalMember[]>();

/**
 * Records `bytes` as `message`'s signing bytes, made elsewhere: every commit on one body signs the
 * same bytes, so a commit rebuilt from a reference reuses its body's instead of encoding 8 KB again.
 */
export function rememberSigningBytes(message: WireMessage, bytes: Uint8Array): void {
  signed.set(message, bytes);
}

/** Keeps the canonical members `message` was decoded from, so signing it costs no re-encoding. */
export function rememberCanonicalMembers(message: WireMessage, members: readonly CanonicalMember[]): void {
  membersOf.set(message, members);
}

/** `message`'s canonical members: the ones remembered for it, or encoded now. */
export function canonicalMembersOf(message: WireMessage): readonly CanonicalMember[] {
  return membersOf.get(message) ?? canonicalMembers(message);
}

/**
 * The bytes an agent signs: a domain prefix naming the protocol version and the message kind,
 * then the canonical JSON of the message without `sig` and `agent`. The prefix keeps a signature
 * for one kind from being replayed as another; the contract id, epoch and round inside the body
 * keep it from being replayed in another contract, epoch or round. `agent` is left out so that
 * every member signs the same bytes for a commit (the signatures then stack into a certificate);
 * the signature still binds the agent, since it verifies only under the agent's own key.
 */
export function signingBytes(message: Unsigned<WireMessage> | WireMessage): Uint8Array {
  let bytes = signed.get(message);
  if (bytes) return bytes;
  const members = membersOf.get(message) ?? canonicalMembers(message);
  const body = canonicalObject(members.filter((m) => m.key !== "sig" && m.key !== "agent"));
  bytes = utf8.encode(`${domainPrefix(message.kind)}${body}`);
  signed.set(message, bytes);
  return bytes;
}

/**
 * The canonical JSON of `message` without `sig` and `agent`: its signing bytes after the domain
 * prefix. For a commit that is its body's canonical form, whose hash names the body.
 */
export function signedBody(message: Unsigned<WireMessage> | WireMessage): Uint8Array {
  // The prefix is ASCII: as many bytes as characters.
  return signingBytes(message).subarray(domainPrefix(message.kind).length);
}

function domainPrefix(kind: WireMessage["kind"]): string {
  return `walras/v${PROTOCOL_VERSION}/${kind}\n`;
}

export function signMessage<M extends WireMessage>(unsigned: Unsigned<M>, signer: Signer): M {
  if (unsigned.agent !== signer.id)
    throw new Error(`cannot sign as ${unsigned.agent} with ${signer.id}'s key`);
  const bytes = signingBytes(unsigned);
  const message = { ...unsigned, sig: Buffer.from(signer.sign(bytes)).toString("base64") } as M;
  signed.set(message, bytes);
  return message;
}

export function verifyMessage(message: WireMessage): boolean {
  return verifyAgentSignature(message.agent, signingBytes(message), base64ToBytes(message.sig));
}

export function base64ToBytes(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, "base64"));
}
