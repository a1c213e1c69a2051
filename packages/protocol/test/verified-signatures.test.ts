import { generateKeyPairSync, sign } from "node:crypto";
import { describe, expect, it } from "vitest";
import { agentIdFromPublicKey, createSigner, verifyAgentSignature } from "../src/wire/agent-key.ts";
import { knownValid, rememberValid, VERIFIED_SIGNATURES_CAPACITY } from "../src/wire/verified-signatures.ts";

const utf8 = new TextEncoder();

/** A key pair outside `createSigner`, so that its signatures reach the memo only by being checked. */
function outsideSigner() {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const raw = new Uint8Array(publicKey.export({ format: "der", type: "spki" }).subarray(12));
  return {
    id: agentIdFromPublicKey(raw),
    sign: (bytes: Uint8Array) => new Uint8Array(sign(null, bytes, privateKey)),
  };
}

describe("signatures this process found valid", () => {
  it("remembers a checked signature for its bytes and agent only", () => {
    const alice = outsideSigner();
    const bob = outsideSigner();
    const bytes = utf8.encode('walras/v2/demand\n{"round":3}');
    const sig = alice.sign(bytes);
    expect(knownValid(alice.id, bytes, sig)).toBe(false);
    expect(verifyAgentSignature(alice.id, bytes, sig)).toBe(true);
    expect(knownValid(alice.id, bytes, sig)).toBe(true);
    // The remembered signature over other bytes, or claimed by another agent, is checked and fails.
    const other = utf8.encode('walras/v2/demand\n{"round":4}');
    expect(verifyAgentSignature(alice.id, other, sig)).toBe(false);
    expect(verifyAgentSignature(bob.id, bytes, sig)).toBe(false);
  });

  it("keeps its own copy of the bytes: a caller reusing its array does not make a forgery pass", () => {
    const alice = outsideSigner();
    const bytes = utf8.encode('walras/v2/commit\n{"epoch":1}');
    const sig = alice.sign(bytes);
    expect(verifyAgentSignature(alice.id, bytes, sig)).toBe(true);
    bytes[bytes.length - 2] = "2".charCodeAt(0);
    expect(verifyAgentSignature(alice.id, bytes, sig)).toBe(false);
  });

  it("never remembers an invalid signature", () => {
    const alice = outsideSigner();
    const bytes = utf8.encode("walras/v2/join\n{}");
    const sig = alice.sign(bytes);
    sig[0] = (sig[0] ?? 0) ^ 1;
    expect(verifyAgentSignature(alice.id, bytes, sig)).toBe(false);
    expect(knownValid(alice.id, bytes, sig)).toBe(false);
  });

  it("knows what a signer of this process signed without checking it", () => {
    const signer = createSigner(new Uint8Array(32).fill(3));
    const bytes = utf8.encode("walras/v2/alive\n{}");
    const sig = signer.sign(bytes);
    expect(knownValid(signer.id, bytes, sig)).toBe(true);
  });

  it("forgets the oldest once full", () => {
    const alice = outsideSigner();
    const first = utf8.encode("first");
    const firstSig = alice.sign(first);
    rememberValid(alice.id, first, firstSig);
    for (let i = 0; i < VERIFIED_SIGNATURES_CAPACITY; i++) {
      const sig = new Uint8Array(64);
      new DataView(sig.buffer).setUint32(0, i);
      rememberValid("filler", first, sig);
    }
    expect(knownValid(alice.id, first, firstSig)).toBe(false);
    // Still valid, by a real check.
    expect(verifyAgentSignature(alice.id, first, firstSig)).toBe(true);
  });
});
