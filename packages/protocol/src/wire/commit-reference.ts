import { type CanonicalMember, canonicalBytes, canonicalMembers, mergeMembers } from "./canonical-json.ts";
import { type CommitBody, commitBodyDigest, commitMessageBodyDigest } from "./certificate.ts";
import type { CommitMessage, CommitReference, Unsigned } from "./messages.ts";
import { rememberCanonicalMembers, rememberSigningBytes, signingBytes } from "./signing.ts";

/**
 * Commits travel gossip by reference (docs/protocol.md §8): the signature and the digest of the
 * body it signs. A receiver that settled the epoch on that body rebuilds the commit and checks
 * the signature over the body's signing bytes, exactly as for a commit that came whole.
 */
export function commitReference(commit: CommitMessage): CommitReference {
  return {
    v: commit.v,
    kind: "commit-ref",
    contract: commit.contract,
    agent: commit.agent,
    sig: commit.sig,
    epoch: commit.epoch,
    body: commitMessageBodyDigest(commit),
  };
}

export function encodeCommitReference(reference: CommitReference): Uint8Array {
  return canonicalBytes(reference);
}

/** The commit `reference` stands for, on `body`; null when `body` is not the one it names. */
export function expandCommitReference(reference: CommitReference, body: CommitBody): CommitMessage | null {
  // The digest covers the body's epoch, contract and version: nothing else needs comparing.
  if (commitBodyDigest(body) !== reference.body) return null;
  const commit = { ...body, agent: reference.agent, sig: reference.sig } as CommitMessage;
  rememberSigningBytes(commit, bodySigningBytes(body));
  // Its encoding (to store and serve it whole) is the body's members with agent and sig among them.
  rememberCanonicalMembers(
    commit,
    mergeMembers(bodyMembers(body), canonicalMembers({ agent: reference.agent, sig: reference.sig })),
  );
  return commit;
}

/** A body's canonical members, encoded once however many commits are rebuilt on it. */
const membersByBody = new WeakMap<CommitBody, readonly CanonicalMember[]>();
function bodyMembers(body: CommitBody): readonly CanonicalMember[] {
  let members = membersByBody.get(body);
  if (!members) {
    members = canonicalMembers(body);
    membersByBody.set(body, members);
  }
  return members;
}

/** A commit's signing bytes leave out agent and signature: one body, one set of bytes. */
const bodyBytes = new WeakMap<CommitBody, Uint8Array>();
function bodySigningBytes(body: CommitBody): Uint8Array {
  let bytes = bodyBytes.get(body);
  if (!bytes) {
    bytes = signingBytes({ ...body, agent: "" } as Unsigned<CommitMessage>);
    bodyBytes.set(body, bytes);
  }
  return bytes;
}

/**
 * The hold every node uses (docs/protocol.md §8): 256 references, a few epochs of 50 members,
 * each for two round timeouts. The node's inbound pipeline and the simulator take it from here.
 */
export function heldCommitReferences<T>(roundMs: number): HeldCommitReferences<T> {
  return new HeldCommitReferences<T>(256, 2 * roundMs);
}

interface Held<T> {
  readonly reference: CommitReference;
  readonly item: T;
  readonly at: number;
}

/**
 * References a node could not expand yet because it has not settled their epoch: a member that
 * settled a moment earlier published its commit while this node waited for the round's last
 * demand. They are kept (with whatever the caller needs to judge them later, `item`) and handed
 * back, rebuilt, once the node holds the body. Gossip delivers a message once, so without this
 * those commits would come only by sync. Bounded in number and age: a reference is unsigned until
 * expanded, so hostile ones can only displace honest ones, which sync then fetches whole.
 */
export class HeldCommitReferences<T> {
  readonly #held = new Map<string, Held<T>>();
  readonly #capacity: number;
  readonly #maxAgeMs: number;

  constructor(capacity: number, maxAgeMs: number) {
    this.#capacity = capacity;
    this.#maxAgeMs = maxAgeMs;
  }

  get size(): number {
    return this.#held.size;
  }

  hold(reference: CommitReference, item: T, now: number): void {
    const key = `${reference.epoch}/${reference.agent}/${reference.body}/${reference.sig}`;
    if (this.#held.has(key)) return;
    // Oldest first out: a Map iterates in insertion order.
    if (this.#held.size >= this.#capacity) this.#held.delete(this.#held.keys().next().value as string);
    this.#held.set(key, { reference, item, at: now });
  }

  /**
   * The held references whose epoch `bodyOf` now has a body for, rebuilt on it (and forgotten,
   * with those that name another body, which go to `otherBody`: this node will not settle that
   * epoch twice), and the references older than the age bound dropped.
   */
  release(
    bodyOf: (epoch: number) => CommitBody | null,
    now: number,
    otherBody?: (reference: CommitReference, item: T) => void,
  ): { commit: CommitMessage; item: T }[] {
    const out: { commit: CommitMessage; item: T }[] = [];
    if (this.#held.size === 0) return out;
    const bodies = new Map<number, CommitBody | null>();
    for (const [key, held] of this.#held) {
      const { epoch } = held.reference;
      let body = bodies.get(epoch);
      if (body === undefined) {
        body = bodyOf(epoch);
        bodies.set(epoch, body);
      }
      if (body) {
        this.#held.delete(key);
        const commit = expandCommitReference(held.reference, body);
        if (commit) out.push({ commit, item: held.item });
        else otherBody?.(held.reference, held.item);
      } else if (now - held.at > this.#maxAgeMs) this.#held.delete(key);
    }
    return out;
  }
}
