import {
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
} from "node:crypto";
import type { ICryptoInterface } from "@chainsafe/libp2p-noise";
import { defaultCrypto } from "@chainsafe/libp2p-noise/crypto";

/**
 * Below this many bytes noise's WebAssembly ChaCha20-Poly1305 is the faster; above it, Node's
 * OpenSSL cipher with a prepared key. Measured on this project's bench machine, per frame:
 * 500 B 9.5 µs (wasm) against 10.9 µs; 1,100 B 17.5 against 13.0; 8,000 B 107 against 20.
 */
const NATIVE_FROM_BYTES = 800;
const CHACHA = "chacha20-poly1305";
const TAG_BYTES = 16;

/**
 * Each session key as a KeyObject, made once. Noise's own Node path passes the raw 32 bytes to
 * createCipheriv, which builds a key object for every frame: 8 KB frames then cost 35–50 µs
 * instead of 15–20, and preparing keys was a tenth of a 50-node network's CPU while it
 * certified (its commits are ~8 KB). A session keeps its key array for its life.
 */
const keys = new WeakMap<Uint8Array, KeyObject>();
function keyObject(k: Uint8Array): KeyObject {
  let key = keys.get(k);
  if (!key) {
    key = createSecretKey(k);
    keys.set(k, key);
  }
  return key;
}

type Frame = Parameters<ICryptoInterface["chaCha20Poly1305Encrypt"]>[0];

function encrypt(plaintext: Frame, nonce: Uint8Array, ad: Uint8Array, k: Uint8Array): Uint8Array {
  const cipher = createCipheriv(CHACHA, keyObject(k), nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(ad, { plaintextLength: plaintext.byteLength });
  const parts = plaintext instanceof Uint8Array ? [plaintext] : [...plaintext];
  const out = parts.map((p) => cipher.update(p));
  out.push(cipher.final(), cipher.getAuthTag());
  return Buffer.concat(out);
}

function decrypt(ciphertext: Frame, nonce: Uint8Array, ad: Uint8Array, k: Uint8Array): Uint8Array {
  const bytes = ciphertext instanceof Uint8Array ? ciphertext : ciphertext.subarray();
  const text = bytes.subarray(0, bytes.length - TAG_BYTES);
  const decipher = createDecipheriv(CHACHA, keyObject(k), nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(ad, { plaintextLength: text.byteLength });
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
  const output = decipher.update(text);
  const final = decipher.final();
  return final.byteLength > 0 ? Buffer.concat([output, final]) : output;
}

/** The DER wrappings of a raw X25519 key (RFC 8410), as noise's own Node path builds them. */
const X25519_SPKI = Buffer.from("302a300506032b656e032100", "hex");
const X25519_PKCS8 = Buffer.from("302e020100300506032b656e04220420", "hex");

type X25519Key = Parameters<ICryptoInterface["generateX25519SharedKey"]>[0];

/**
 * X25519 key objects by the raw key they were made from. Noise's own Node path rebuilds both key
 * objects from DER for every Diffie-Hellman (138 µs against 36 µs with key objects at hand,
 * measured here), and a handshake does three on each side: one with the node's static key, the
 * same array for the node's life, and two with the ephemeral pair made for the handshake. A
 * connection burst while a young network meshes is thousands of them.
 */
const x25519Private = new WeakMap<object, KeyObject>();
const x25519Public = new WeakMap<object, KeyObject>();

function x25519KeyObject(
  key: X25519Key,
  cache: WeakMap<object, KeyObject>,
  make: (raw: Uint8Array) => KeyObject,
): KeyObject {
  let made = cache.get(key);
  if (!made) {
    made = make(key instanceof Uint8Array ? key : key.subarray());
    cache.set(key, made);
  }
  return made;
}

const privateFromRaw = (raw: Uint8Array) =>
  createPrivateKey({ key: Buffer.concat([X25519_PKCS8, raw]), format: "der", type: "pkcs8" });
const publicFromRaw = (raw: Uint8Array) =>
  createPublicKey({ key: Buffer.concat([X25519_SPKI, raw]), format: "der", type: "spki" });

/** A fresh pair whose private key object is remembered for the Diffie-Hellmans it will do. */
function generateX25519KeyPair(): { publicKey: Uint8Array; privateKey: Uint8Array } {
  const pair = generateKeyPairSync("x25519");
  const publicKey = new Uint8Array(
    pair.publicKey.export({ format: "der", type: "spki" }).subarray(X25519_SPKI.length),
  );
  const privateKey = new Uint8Array(
    pair.privateKey.export({ format: "der", type: "pkcs8" }).subarray(X25519_PKCS8.length),
  );
  x25519Private.set(privateKey, pair.privateKey);
  return { publicKey, privateKey };
}

/**
 * Noise's own returns the caller's seed array as the private key: a copy here, since the key
 * object is remembered by the array, and a caller reusing one buffer for another seed would
 * otherwise get the first seed's key.
 */
function generateX25519KeyPairFromSeed(seed: Uint8Array): { publicKey: Uint8Array; privateKey: Uint8Array } {
  const pair = defaultCrypto.generateX25519KeyPairFromSeed(seed);
  return { publicKey: pair.publicKey, privateKey: new Uint8Array(seed) };
}

function generateX25519SharedKey(privateKey: X25519Key, publicKey: X25519Key): Uint8Array {
  return diffieHellman({
    privateKey: x25519KeyObject(privateKey, x25519Private, privateFromRaw),
    publicKey: x25519KeyObject(publicKey, x25519Public, publicFromRaw),
  });
}

/**
 * Noise's default crypto, with large frames sealed and opened by OpenSSL under a prepared key, and
 * X25519 done on key objects made once per key.
 */
export const noiseCrypto: ICryptoInterface = {
  ...defaultCrypto,
  generateX25519KeyPair,
  generateX25519KeyPairFromSeed,
  generateX25519SharedKey,
  chaCha20Poly1305Encrypt: (plaintext, nonce, ad, k) =>
    plaintext.byteLength < NATIVE_FROM_BYTES
      ? defaultCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k)
      : encrypt(plaintext, nonce, ad, k),
  chaCha20Poly1305Decrypt: (ciphertext, nonce, ad, k, dst) =>
    ciphertext.byteLength < NATIVE_FROM_BYTES
      ? defaultCrypto.chaCha20Poly1305Decrypt(ciphertext, nonce, ad, k, dst)
      : decrypt(ciphertext, nonce, ad, k),
};
