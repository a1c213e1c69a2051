import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from "node:crypto";
import { base58btc } from "multiformats/bases/base58";
import { type AgentId, asAgentId } from "./ids.ts";
import { knownValid, rememberValid } from "./verified-signatures.ts";

/**
 * An agent id is its libp2p peer id: base58btc of the identity multihash of the protobuf-encoded
 * Ed25519 public key. That prefix is fixed, so the public key can be read back out of the id and
 * a signature checked with nothing but the id — which is what makes certificates verifiable offline.
 */
const PEER_ID_PREFIX = Uint8Array.of(0x00, 0x24, 0x08, 0x01, 0x12, 0x20);

export function agentIdFromPublicKey(publicKey: Uint8Array): AgentId {
  if (publicKey.length !== 32) throw new TypeError("an Ed25519 public key has 32 bytes");
  const bytes = new Uint8Array(PEER_ID_PREFIX.length + 32);
  bytes.set(PEER_ID_PREFIX, 0);
  bytes.set(publicKey, PEER_ID_PREFIX.length);
  return asAgentId(base58btc.baseEncode(bytes));
}

/** The Ed25519 public key inside an agent id, or undefined when the id is not an Ed25519 peer id. */
export function publicKeyOfAgent(id: string): Uint8Array | undefined {
  let bytes: Uint8Array;
  try {
    bytes = base58btc.baseDecode(id);
  } catch {
    return undefined;
  }
  if (bytes.length !== PEER_ID_PREFIX.length + 32) return undefined;
  for (let i = 0; i < PEER_ID_PREFIX.length; i++) if (bytes[i] !== PEER_ID_PREFIX[i]) return undefined;
  return bytes.slice(PEER_ID_PREFIX.length);
}

export function isAgentId(id: string): id is AgentId {
  return publicKeyOfAgent(id) !== undefined;
}

/** Signs protocol bytes as one agent. Ed25519 is deterministic, so signing is a pure function. */
export interface Signer {
  readonly id: AgentId;
  sign(bytes: Uint8Array): Uint8Array;
}

/**
 * Ed25519 through Node's crypto (OpenSSL): a signature check costs tens of microseconds instead
 * of a millisecond in pure JavaScript, and a node checks every member's messages every round.
 * Keys are wrapped in their fixed DER headers (RFC 8410).
 */
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");
const PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const publicKeys = new Map<string, KeyObject>();

function publicKeyObject(agent: string): KeyObject | undefined {
  let key = publicKeys.get(agent);
  if (key) return key;
  const raw = publicKeyOfAgent(agent);
  if (!raw) return undefined;
  key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: "der", type: "spki" });
  // A cache of parsed keys, bounded: hostile peers can mint endless ids.
  if (publicKeys.size >= 10_000) publicKeys.clear();
  publicKeys.set(agent, key);
  return key;
}

/** A signer from a 32-byte Ed25519 seed (the first half of libp2p's 64-byte raw private key). */
export function createSigner(seed: Uint8Array): Signer {
  const secret = seed.length === 64 ? seed.subarray(0, 32) : seed;
  if (secret.length !== 32) throw new TypeError("an Ed25519 seed has 32 bytes");
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_PREFIX, secret]),
    format: "der",
    type: "pkcs8",
  });
  const spki = createPublicKey(privateKey).export({ format: "der", type: "spki" });
  const id = agentIdFromPublicKey(new Uint8Array(spki.subarray(SPKI_PREFIX.length)));
  return {
    id,
    sign: (bytes) => {
      const signature = new Uint8Array(sign(null, bytes, privateKey));
      rememberValid(id, bytes, signature);
      return signature;
    },
  };
}

export function verifyAgentSignature(agent: string, bytes: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  if (knownValid(agent, bytes, signature)) return true;
  const key = publicKeyObject(agent);
  if (!key) return false;
  let ok: boolean;
  try {
    ok = verify(null, bytes, key, signature);
  } catch {
    return false;
  }
  if (ok) rememberValid(agent, bytes, signature);
  return ok;
}
