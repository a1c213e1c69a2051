import { describe, expect, it } from "vitest";
import { createSigner } from "../src/wire/agent-key.ts";
import { canonicalJson } from "../src/wire/canonical-json.ts";
import { contractSchema } from "../src/wire/contract.ts";
import type { ContractId } from "../src/wire/ids.ts";
import { decodeMessage, encodeMessage, messageDigest } from "../src/wire/message-codec.ts";
import type { CommitMessage, DemandMessage, Unsigned } from "../src/wire/messages.ts";
import { signingBytes, signMessage, verifyMessage } from "../src/wire/signing.ts";

const signer = createSigner(new Uint8Array(32).fill(7));
const unsigned: Unsigned<DemandMessage> = {
  v: 2,
  kind: "demand",
  contract: "c".repeat(64) as ContractId,
  agent: signer.id,
  epoch: 2,
  round: 5,
  prices: [1.25, 0.5],
  x: 3.75,
  slope: -0.125,
  footprint: [1, -0.5],
};
/** The signing bytes as documented (docs/protocol.md §4), built here by hand from a plain copy. */
function documentedSigningBytes(m: DemandMessage): string {
  const { sig: _sig, agent: _agent, ...body } = m;
  const sorted = Object.fromEntries(Object.entries(body).sort(([a], [b]) => (a < b ? -1 : 1)));
  return `walras/v2/demand\n${JSON.stringify(sorted)}`;
}

describe("message codec", () => {
  it("a decoded message signs and verifies over the documented bytes, encoded once", () => {
    const signed = signMessage(unsigned, signer);
    const bytes = encodeMessage(signed);
    const decoded = decodeMessage(bytes);
    if (!decoded.ok) throw new Error(decoded.detail);
    const message = decoded.message as DemandMessage;
    expect(new TextDecoder().decode(signingBytes(message))).toBe(documentedSigningBytes(message));
    expect(verifyMessage(message)).toBe(true);
    // The received bytes are the encoding: the same bytes (not a re-encoding) and their digest.
    expect(encodeMessage(message)).toBe(bytes);
    expect(messageDigest(message)).toBe(messageDigest({ ...message }));
  });

  it("a changed field no longer verifies, and non-canonical bytes are refused", () => {
    const signed = signMessage(unsigned, signer);
    const forged = decodeMessage(
      new TextEncoder().encode(JSON.stringify({ ...signed, x: 4 }, Object.keys(signed).sort())),
    );
    if (!forged.ok) throw new Error(forged.detail);
    expect(verifyMessage(forged.message)).toBe(false);
    const spaced = new TextEncoder().encode(
      JSON.stringify(JSON.parse(new TextDecoder().decode(encodeMessage(signed))), null, 1),
    );
    expect(decodeMessage(spaced)).toMatchObject({
      ok: false,
      reason: "malformed",
      detail: "not canonical JSON",
    });
  });
});

describe("a demand's exit from the activity cap (docs/protocol.md §4)", () => {
  const decoded = (exit: unknown) =>
    decodeMessage(
      encodeMessage(signMessage({ ...unsigned, slope: 0, exit } as Unsigned<DemandMessage>, signer)),
    );

  it("travels with a price within the bound and a falling slope, and nothing else", () => {
    const ok = decoded({ price: -0.5, slope: -4 });
    if (!ok.ok) throw new Error(ok.detail);
    expect((ok.message as DemandMessage).exit).toEqual({ price: -0.5, slope: -4 });
    expect(verifyMessage(ok.message)).toBe(true);
    expect(decoded({ price: 1, slope: 0 }).ok).toBe(false);
    expect(decoded({ price: 2e12, slope: -1 }).ok).toBe(false);
    expect(decoded({ price: 1, slope: -1, x: 3 }).ok).toBe(false);
  });
});

describe("the wire's number bound (docs/protocol.md §4)", () => {
  const commit = (residual: number): Unsigned<CommitMessage> => ({
    v: 2,
    kind: "commit",
    contract: "c".repeat(64) as ContractId,
    agent: signer.id,
    epoch: 2,
    round: 5,
    members: [signer.id],
    prices: [1.25],
    allocations: [{ agent: signer.id, x: 3.75, footprint: [1] }],
    residual,
    approximate: true,
    previous: null,
  });

  it("a commit's residual is any finite non-negative number: older nodes published ones past 1e12", () => {
    expect(decodeMessage(encodeMessage(signMessage(commit(1e12), signer))).ok).toBe(true);
    expect(decodeMessage(encodeMessage(signMessage(commit(1e300), signer))).ok).toBe(true);
    const negative = decodeMessage(encodeMessage(signMessage(commit(-1), signer)));
    expect(negative.ok).toBe(false);
  });

  it("a plan's terms are a contract document, held to the contract file's ranges", () => {
    const terms = contractSchema.parse({
      name: "terms",
      resources: [{ id: "r", capacity: 10 }],
      fees: { perUnit: 0.5, fixed: 0 },
      amends: "a".repeat(64),
    });
    // The decoder judges shape and ranges only (the signature is checked later): any sig will do.
    const propose = (t: unknown) =>
      new TextEncoder().encode(
        canonicalJson({
          v: 2,
          kind: "propose",
          contract: "c".repeat(64),
          agent: signer.id,
          epoch: 2,
          view: 0,
          plan: {
            members: [signer.id],
            deciders: [signer.id],
            voters: [signer.id],
            base: { epoch: 1, round: 3, prices: [1] },
            terms: t,
            ledger: null,
            cause: ["amend"],
          },
          sig: `${"A".repeat(86)}==`,
        }),
      );
    expect(decodeMessage(propose(terms)).ok).toBe(true);
    const cases: [Record<string, unknown>, string][] = [
      [{ fees: { perUnit: 1e13, fixed: 0 } }, "plan.terms.fees.perUnit"],
      [{ resources: [{ id: "r", capacity: 1e300 }] }, "plan.terms.resources[0].capacity"],
      [{ tolerance: { residual: 2, price: 1e-9 } }, "plan.terms.tolerance.residual"],
      [{ maxRounds: 2 ** 53 }, "plan.terms.maxRounds"],
      [{ timeouts: { roundMs: 0.5, announceMs: 1000 } }, "plan.terms.timeouts.roundMs"],
      [{ quorum: 0.5 }, "plan.terms.quorum"],
    ];
    for (const [change, path] of cases) {
      const decoded = decodeMessage(propose({ ...terms, ...change }));
      expect(decoded).toMatchObject({ ok: false, reason: "schema" });
      expect(decoded.ok ? "" : decoded.detail.split(": ")[0]).toBe(path);
    }
  });
});
