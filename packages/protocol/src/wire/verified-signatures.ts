/**
 * Signatures this process has already found valid. Whether a signature verifies is a pure
 * function of the agent, the signed bytes and the signature, so a second check of the same triple
 * can be answered from memory. It pays where several nodes share a process (the in-process bench,
 * tests, a devnet in one process): each of n nodes checks every message it accepts, and an
 * Ed25519 check costs ~170 µs on a 2-core build machine, more than the rest of a message's
 * handling. It also answers the re-check of a certificate's commits, which were checked one by
 * one as they arrived. What a signer of this process signs is remembered too: in one process the
 * other nodes then never check a signature their neighbour made.
 *
 * Only valid signatures are remembered (a hostile peer could otherwise fill the memory with
 * invalid ones for free), and the bytes are kept and compared in full: a signature is never taken
 * as valid for bytes other than those it was checked over.
 */
export const VERIFIED_SIGNATURES_CAPACITY = 8192;
const verified = new Map<string, Uint8Array>();

function keyOf(agent: string, signature: Uint8Array): string {
  return `${agent}/${Buffer.from(signature.buffer, signature.byteOffset, signature.length).toString("latin1")}`;
}

export function knownValid(agent: string, bytes: Uint8Array, signature: Uint8Array): boolean {
  const held = verified.get(keyOf(agent, signature));
  return held !== undefined && Buffer.from(held.buffer, held.byteOffset, held.length).equals(bytes);
}

export function rememberValid(agent: string, bytes: Uint8Array, signature: Uint8Array): void {
  // Oldest first out: a Map iterates in insertion order.
  if (verified.size >= VERIFIED_SIGNATURES_CAPACITY) verified.delete(verified.keys().next().value as string);
  // A copy: the caller's array may be reused for other bytes after the check.
  verified.set(keyOf(agent, signature), bytes.slice());
}
