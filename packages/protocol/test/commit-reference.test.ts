import { describe, expect, it } from "vitest";
import { createSigner, type Signer } from "../src/wire/agent-key.ts";
import { type CommitBody, commitBody } from "../src/wire/certificate.ts";
import {
  commitReference,
  encodeCommitReference,
  expandCommitReference,
  HeldCommitReferences,
} from "../src/wire/commit-reference.ts";
import { decodeGossip, decodeMessage, encodeMessage } from "../src/wire/message-codec.ts";
import {
  type CommitMessage,
  type CommitReference,
  PROTOCOL_VERSION,
  type Unsigned,
} from "../src/wire/messages.ts";
import { signingBytes, signMessage, verifyMessage } from "../src/wire/signing.ts";
import { specCanonical, specDigest } from "./spec-commit-digest.ts";

const signers = [1, 2, 3].map((n) => createSigner(new Uint8Array(32).fill(n)));
const members = signers.map((s) => s.id).sort();

const commit = (signer: Signer, epoch = 3, price = 1.25): CommitMessage =>
  signMessage<CommitMessage>(
    {
      v: PROTOCOL_VERSION,
      contract: "ab".repeat(32),
      agent: signer.id,
      kind: "commit",
      epoch,
      round: 5,
      members,
      prices: [price, 0],
      allocations: members.map((agent, i) => ({ agent, x: i + 0.5, footprint: [1, -0.5] })),
      residual: 0.001,
      previous: null,
    } as unknown as Unsigned<CommitMessage>,
    signer,
  );

const decodeReference = (bytes: Uint8Array): CommitReference => {
  const r = decodeGossip(bytes);
  if (!r.ok || !("reference" in r)) throw new Error(`not a reference: ${JSON.stringify(r)}`);
  return r.reference;
};

/** The spec's reference, written out from §8: the commit's agent and sig, and its body's digest. */
function specReference(m: CommitMessage): string {
  const { v, contract, epoch, agent, sig } = m;
  return specCanonical({ v, kind: "commit-ref", contract, epoch, agent, sig, body: specDigest(m) });
}

describe("a commit gossiped by reference (docs/protocol.md §8)", () => {
  it("is the spec's bytes: the commit's agent and signature, and the sha256 of its canonical body", () => {
    const original = commit(signers[0] as Signer);
    expect(new TextDecoder().decode(encodeCommitReference(commitReference(original)))).toBe(
      specReference(original),
    );
  });

  it("crosses the wire small and rebuilds, on the signer's body, into the very commit it was", () => {
    const [a, b] = signers as [Signer, Signer];
    const original = commit(a);
    const bytes = encodeCommitReference(commitReference(original));
    expect(bytes.length).toBeLessThan(encodeMessage(original).length);
    // The receiver's body: its own commit's, decoded from its own bytes, not the signer's object.
    const own = decodeMessage(encodeMessage(commit(b)));
    if (!own.ok) throw new Error(own.detail);
    const body = commitBody(own.message as CommitMessage);
    const rebuilt = expandCommitReference(decodeReference(bytes), body);
    if (!rebuilt) throw new Error("did not expand");
    expect(encodeMessage(rebuilt)).toEqual(encodeMessage(original));
    // Its encoding is put together from the body's members (no re-encoding): the spec's bytes.
    expect(new TextDecoder().decode(encodeMessage(rebuilt))).toBe(specCanonical(original));
    expect(signingBytes(rebuilt)).toEqual(signingBytes(original));
    expect(verifyMessage(rebuilt)).toBe(true);
  });

  it("does not rebuild on another body, and a forged signature rebuilds into a commit that fails", () => {
    const [a, b] = signers as [Signer, Signer];
    const reference = commitReference(commit(a));
    expect(expandCommitReference(reference, commitBody(commit(b, 3, 2.5)))).toBeNull();
    expect(expandCommitReference(reference, commitBody(commit(b, 4)))).toBeNull();
    const forged = { ...reference, sig: commit(b).sig };
    const rebuilt = expandCommitReference(forged, commitBody(commit(b)));
    expect(rebuilt).not.toBeNull();
    expect(verifyMessage(rebuilt as CommitMessage)).toBe(false);
  });

  it("is decoded only from gossip, canonical and whole, with the field at fault named", () => {
    const [a] = signers as [Signer];
    const reference = commitReference(commit(a));
    const bytes = encodeCommitReference(reference);
    // Not a message: a sync answer or the store never holds one.
    expect(decodeMessage(bytes)).toMatchObject({ ok: false, reason: "schema" });
    const text = new TextDecoder().decode(bytes);
    const spaced = new TextEncoder().encode(text.replace(":", ": "));
    expect(decodeGossip(spaced)).toMatchObject({
      ok: false,
      reason: "malformed",
      detail: "not canonical JSON",
    });
    const badBody = encodeCommitReference({ ...reference, body: "xyz" } as unknown as CommitReference);
    expect(decodeGossip(badBody)).toMatchObject({ ok: false, reason: "schema" });
    expect((decodeGossip(badBody) as { detail: string }).detail).toMatch(/^body/);
    const extra = encodeCommitReference({ ...reference, allocations: [] } as unknown as CommitReference);
    expect(decodeGossip(extra)).toMatchObject({ ok: false, reason: "schema" });
    // Whole messages still decode from gossip as before.
    const whole = decodeGossip(encodeMessage(commit(a)));
    expect(whole.ok && "message" in whole && whole.message.kind).toBe("commit");
  });
});

describe("commit references held until their epoch settles", () => {
  const [a, b, c] = signers as [Signer, Signer, Signer];
  const bodyOf = (settled: Map<number, CommitBody>) => (epoch: number) => settled.get(epoch) ?? null;

  it("hands back, rebuilt, those on the body this node settled, and names those on another", () => {
    const held = new HeldCommitReferences<string>(16, 10_000);
    held.hold(commitReference(commit(a)), "peer-a", 0);
    held.hold(commitReference(commit(b)), "peer-b", 0);
    held.hold(commitReference(commit(c, 3, 9)), "peer-c", 0); // another body
    held.hold(commitReference(commit(a, 4)), "peer-a", 0); // a later epoch
    const settled = new Map<number, CommitBody>();
    expect(held.release(bodyOf(settled), 1)).toEqual([]);
    settled.set(3, commitBody(commit(c)));
    const others: [string, string][] = [];
    const out = held.release(bodyOf(settled), 2, (reference, item) => others.push([reference.agent, item]));
    expect(out.map((o) => [o.commit.agent, o.item])).toEqual([
      [a.id, "peer-a"],
      [b.id, "peer-b"],
    ]);
    for (const o of out) expect(verifyMessage(o.commit)).toBe(true);
    // The one on another body is not kept, but its member's commit is worth asking for (§8).
    expect(others).toEqual([[c.id, "peer-c"]]);
    expect(held.size).toBe(1); // epoch 4's
  });

  it("drops references older than its age bound, and the oldest when full", () => {
    const aged = new HeldCommitReferences<string>(16, 1_000);
    aged.hold(commitReference(commit(a)), "x", 0);
    aged.hold(commitReference(commit(b)), "x", 900);
    expect(aged.release(() => null, 1_500)).toEqual([]);
    expect(aged.size).toBe(1);
    const full = new HeldCommitReferences<string>(2, 10_000);
    for (const s of [a, b, c]) full.hold(commitReference(commit(s)), s.id, 0);
    expect(full.size).toBe(2);
    const out = full.release(() => commitBody(commit(a)), 0);
    expect(out.map((o) => o.item)).toEqual([b.id, c.id]);
  });
});
