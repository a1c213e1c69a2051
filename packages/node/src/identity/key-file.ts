import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, rename, stat, unlink, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from "@libp2p/crypto/keys";
import type { Ed25519PrivateKey, PeerId } from "@libp2p/interface";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { openToOthers } from "../start/open-to-others.ts";
import { fileWriteError } from "../store/file-write-error.ts";
import { fsyncDirectory } from "../store/new-file.ts";

export interface LoadedKey {
  privateKey: Ed25519PrivateKey;
  peerId: PeerId;
  /** True when no key file existed and a fresh key was written. */
  created: boolean;
  /**
   * True when the file's mode grants group or other any access (wider than 0600).
   * Not fatal: the caller decides whether to warn.
   */
  permissionsTooOpen: boolean;
}

/** A key file that exists but does not hold a usable Ed25519 libp2p private key. */
export class InvalidKeyFileError extends Error {
  readonly path: string;
  constructor(path: string, reason: string) {
    super(`${path}: not a valid walras key file (${reason})`);
    this.name = "InvalidKeyFileError";
    this.path = path;
  }
}

/**
 * Loads the node's Ed25519 identity from `path`, creating it (mode 0600, parent directory 0700)
 * when absent. The file holds the libp2p protobuf encoding of the private key, so the same file
 * works with other libp2p tooling.
 */
export async function loadOrCreateKey(path: string): Promise<LoadedKey> {
  const existing = await readIfExists(path);
  if (existing === undefined) {
    const privateKey = await generateKeyPair("Ed25519");
    await writeAtomically(path, privateKeyToProtobuf(privateKey));
    return { privateKey, peerId: peerIdFromPrivateKey(privateKey), created: true, permissionsTooOpen: false };
  }
  const privateKey = decodeKey(path, existing);
  return {
    privateKey,
    peerId: peerIdFromPrivateKey(privateKey),
    created: false,
    permissionsTooOpen: openToOthers((await stat(path)).mode),
  };
}

/** Plain Ed25519 signature (64 bytes) over `bytes`, checkable by any Ed25519 verifier. */
export async function signWith(privateKey: Ed25519PrivateKey, bytes: Uint8Array): Promise<Uint8Array> {
  return await privateKey.sign(bytes);
}

/** The raw 32-byte Ed25519 public key: what an agent id encodes and a plain Ed25519 verifier takes. */
export function rawPublicKey(privateKey: Ed25519PrivateKey): Uint8Array {
  return privateKey.publicKey.raw;
}

async function readIfExists(path: string): Promise<Uint8Array | undefined> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    // Node's EISDIR names no path; the operator needs to know which one.
    if (code === "EISDIR") throw new InvalidKeyFileError(path, "it is a directory");
    throw err;
  }
}

function decodeKey(path: string, bytes: Uint8Array): Ed25519PrivateKey {
  let key: ReturnType<typeof privateKeyFromProtobuf>;
  try {
    key = privateKeyFromProtobuf(bytes);
  } catch (err) {
    throw new InvalidKeyFileError(path, err instanceof Error ? err.message : String(err));
  }
  if (key.type !== "Ed25519") throw new InvalidKeyFileError(path, `key type ${key.type}, expected Ed25519`);
  return key;
}

/** Write to a temporary sibling then rename: a crash leaves either no key or the whole key. */
async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    await writeFile(tmp, bytes, { mode: 0o600, flag: "wx", flush: true });
    // writeFile's mode is filtered by the umask; 0600 must hold regardless.
    await chmod(tmp, 0o600);
    await rename(tmp, path);
    // The rename is in the directory: without its fsync a power cut can lose a fresh key's name,
    // and the node would come back as another peer.
    fsyncDirectory(dirname(path));
  } catch (err) {
    await unlink(tmp).catch(() => {});
    // One line naming the key file (Node's ENOSPC names no file for a write).
    throw fileWriteError(path, err);
  }
}
