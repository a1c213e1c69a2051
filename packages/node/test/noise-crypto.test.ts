import { randomBytes } from "node:crypto";
import { defaultCrypto } from "@chainsafe/libp2p-noise/crypto";
import { describe, expect, it } from "vitest";
import { noiseCrypto } from "../src/network/noise-crypto.ts";

const k = new Uint8Array(randomBytes(32));
const nonce = new Uint8Array(12).fill(7);
const ad = new Uint8Array([1, 2, 3]);
const bytes = (x: Uint8Array | { subarray(): Uint8Array }) => Buffer.from(x.subarray());

describe("noise's ChaCha20-Poly1305 with prepared keys for large frames", () => {
  // Both sides of the threshold, and a full noise frame.
  for (const size of [0, 100, 799, 800, 8_000, 65_519]) {
    it(`seals and opens ${size} bytes exactly as noise's own crypto does`, () => {
      const plaintext = new Uint8Array(randomBytes(size));
      const ours = noiseCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k);
      const theirs = defaultCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k);
      expect(bytes(ours)).toEqual(bytes(theirs));
      expect(bytes(noiseCrypto.chaCha20Poly1305Decrypt(bytes(theirs), nonce, ad, k))).toEqual(
        Buffer.from(plaintext),
      );
      // A second frame under the same session key (the cached key object) and another key.
      const other = new Uint8Array(randomBytes(32));
      const sealed = noiseCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, other);
      expect(bytes(defaultCrypto.chaCha20Poly1305Decrypt(bytes(sealed), nonce, ad, other))).toEqual(
        Buffer.from(plaintext),
      );
    });
  }

  it("refuses a tampered frame, a wrong key and wrong associated data", () => {
    const sealed = bytes(
      noiseCrypto.chaCha20Poly1305Encrypt(new Uint8Array(randomBytes(4_000)), nonce, ad, k),
    );
    const flipped = Buffer.from(sealed);
    flipped[10] = (flipped[10] as number) ^ 1;
    expect(() => noiseCrypto.chaCha20Poly1305Decrypt(flipped, nonce, ad, k)).toThrow();
    expect(() => noiseCrypto.chaCha20Poly1305Decrypt(sealed, nonce, ad, new Uint8Array(32))).toThrow();
    expect(() => noiseCrypto.chaCha20Poly1305Decrypt(sealed, nonce, new Uint8Array([9]), k)).toThrow();
  });
});

type RemoteKey = Parameters<typeof noiseCrypto.generateX25519SharedKey>[1];

describe("noise's X25519 on key objects made once per key", () => {
  it("agrees with noise's own crypto, whichever side made the keys and however often a key is used", () => {
    const ours = noiseCrypto.generateX25519KeyPair();
    const theirs = defaultCrypto.generateX25519KeyPair();
    expect(ours.publicKey.byteLength).toBe(32);
    expect(ours.privateKey.byteLength).toBe(32);
    const reference = bytes(defaultCrypto.generateX25519SharedKey(theirs.privateKey, ours.publicKey));
    expect(bytes(noiseCrypto.generateX25519SharedKey(ours.privateKey, theirs.publicKey))).toEqual(reference);
    expect(bytes(noiseCrypto.generateX25519SharedKey(theirs.privateKey, ours.publicKey))).toEqual(reference);
    // Again with the remembered key objects: the same secret.
    expect(bytes(noiseCrypto.generateX25519SharedKey(ours.privateKey, theirs.publicKey))).toEqual(reference);
    // A pair our side made is a valid pair for noise's own crypto too.
    const other = defaultCrypto.generateX25519KeyPair();
    expect(bytes(noiseCrypto.generateX25519SharedKey(ours.privateKey, other.publicKey))).toEqual(
      bytes(defaultCrypto.generateX25519SharedKey(ours.privateKey, other.publicKey)),
    );
  });

  it("takes a remote key as noise reads it, a slice of a Uint8ArrayList", () => {
    const a = noiseCrypto.generateX25519KeyPair();
    const b = defaultCrypto.generateX25519KeyPair();
    // Noise keeps the remote key it read as a sublist of the message; only subarray() is used.
    const re = { subarray: () => new Uint8Array(b.publicKey) } as unknown as RemoteKey;
    const secret = bytes(noiseCrypto.generateX25519SharedKey(a.privateKey, re));
    expect(secret).toEqual(bytes(defaultCrypto.generateX25519SharedKey(b.privateKey, a.publicKey)));
    expect(bytes(noiseCrypto.generateX25519SharedKey(a.privateKey, re))).toEqual(secret);
  });

  it("keeps distinct keys apart: a second pair gives another secret", () => {
    const a = noiseCrypto.generateX25519KeyPair();
    const b = noiseCrypto.generateX25519KeyPair();
    const c = noiseCrypto.generateX25519KeyPair();
    const ab = bytes(noiseCrypto.generateX25519SharedKey(a.privateKey, b.publicKey));
    const ac = bytes(noiseCrypto.generateX25519SharedKey(a.privateKey, c.publicKey));
    expect(ab).not.toEqual(ac);
    expect(bytes(noiseCrypto.generateX25519SharedKey(c.privateKey, a.publicKey))).toEqual(ac);
  });

  it("a pair from a seed survives the caller reusing the seed's buffer for another seed", () => {
    const seed = new Uint8Array(randomBytes(32));
    const first = noiseCrypto.generateX25519KeyPairFromSeed(seed);
    const remote = defaultCrypto.generateX25519KeyPair();
    const secret = bytes(noiseCrypto.generateX25519SharedKey(first.privateKey, remote.publicKey));
    seed.set(randomBytes(32));
    const second = noiseCrypto.generateX25519KeyPairFromSeed(seed);
    expect(bytes(noiseCrypto.generateX25519SharedKey(second.privateKey, remote.publicKey))).toEqual(
      bytes(defaultCrypto.generateX25519SharedKey(remote.privateKey, second.publicKey)),
    );
    expect(bytes(noiseCrypto.generateX25519SharedKey(first.privateKey, remote.publicKey))).toEqual(secret);
  });
});
