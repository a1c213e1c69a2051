import { describe, expect, it } from "vitest";
import { createSigner, type Signer } from "../src/wire/agent-key.ts";
import { buildCertificate, certificateDigest, commitMessageBodyDigest } from "../src/wire/certificate.ts";
import { decodeMessage, encodeMessage } from "../src/wire/message-codec.ts";
import { type CommitMessage, PROTOCOL_VERSION, type Unsigned } from "../src/wire/messages.ts";
import { signMessage } from "../src/wire/signing.ts";
import { specDigest } from "./spec-commit-digest.ts";

const signers = [1, 2, 3].map((n) => createSigner(new Uint8Array(32).fill(n)));
const members = signers.map((s) => s.id).sort();

const commit = (signer: Signer, approximate?: true): CommitMessage =>
  signMessage<CommitMessage>(
    {
      v: PROTOCOL_VERSION,
      contract: "ab".repeat(32),
      agent: signer.id,
      kind: "commit",
      epoch: 3,
      round: 5,
      members,
      prices: [1.25, 0],
      allocations: members.map((agent, i) => ({ agent, x: i + 0.5, footprint: [1, -0.5] })),
      residual: 0.001,
      previous: null,
      ...(approximate ? { approximate } : {}),
    } as unknown as Unsigned<CommitMessage>,
    signer,
  );

describe("a commit's body digest, taken from the bytes its signature covers", () => {
  it("is the spec's digest for a signed commit, a decoded one, and the certificate they build", () => {
    for (const approximate of [undefined, true] as const) {
      const signed = signers.map((s) => commit(s, approximate));
      const decoded = signed.map((m) => {
        const r = decodeMessage(encodeMessage(m));
        if (!r.ok) throw new Error(r.detail);
        return r.message as CommitMessage;
      });
      const expected = specDigest(signed[0] as CommitMessage);
      for (const m of [...signed, ...decoded]) expect(commitMessageBodyDigest(m)).toBe(expected);
      expect(certificateDigest(buildCertificate(decoded))).toBe(expected);
    }
  });

  it("differs when the body differs (an approximate commit against an exact one)", () => {
    const a = commit(signers[0] as Signer);
    const b = commit(signers[0] as Signer, true);
    expect(commitMessageBodyDigest(a)).not.toBe(commitMessageBodyDigest(b));
  });
});
