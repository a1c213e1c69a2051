import {
  amendTerms,
  bestResponse,
  buildCertificate,
  type CommitMessage,
  contractId,
  createSigner,
  paperScenario,
  scenarioSchema,
  signMessage,
  solveReference,
  type Unsigned,
} from "@walras/protocol";
import { describe, expect, it } from "vitest";
import { createCertificateViews } from "../src/history/certificate-view.ts";

/** A one-member market's certificate under amended terms (a higher capacity), and both sets of terms. */
function amendedCertificate() {
  const scenario = scenarioSchema.parse(paperScenario({ agents: 1, capacity: 1, seed: 1, g: 0 }));
  const base = scenario.contract;
  const amended = amendTerms(base, contractId(base), {
    capacities: { [base.resources[0]?.id as string]: 2 },
  });
  const signer = createSigner(new Uint8Array(32).fill(7));
  const profile = scenario.agents[0] as (typeof scenario.agents)[number];
  const ref = solveReference({ contract: amended, agents: [{ ...profile, id: signer.id }] });
  const x = bestResponse(profile, amended, ref.prices).x;
  const commit = signMessage<CommitMessage>(
    {
      v: 2,
      kind: "commit",
      agent: signer.id,
      contract: contractId(base),
      terms: contractId(amended),
      epoch: 3,
      round: 2,
      members: [signer.id],
      prices: ref.prices,
      allocations: [{ agent: signer.id, x, footprint: profile.footprint }],
      residual: ref.residual,
      previous: null,
    } as unknown as Unsigned<CommitMessage>,
    signer,
  );
  return { base, amended, certificate: buildCertificate([commit]) };
}

describe("certificate views", () => {
  it("verify a certificate again once the amended terms it names arrive", () => {
    const { base, amended, certificate } = amendedCertificate();
    let held = base;
    const view = createCertificateViews(() => held);
    // Before the amended terms reach this node the view is made under the terms in effect.
    const early = view(certificate);
    expect(early.verification).toMatchObject({ ok: false });
    if (!early.verification.ok) expect(early.verification.error).toMatch(/is not these terms/);
    held = amended;
    expect(view(certificate).verification).toMatchObject({ ok: true, signers: 1 });
  });

  it("verify a certificate once under the terms it names", () => {
    const { amended, certificate } = amendedCertificate();
    let asked = 0;
    const view = createCertificateViews(() => {
      asked += 1;
      return amended;
    });
    const first = view(certificate);
    expect(first.verification).toMatchObject({ ok: true });
    expect(view(certificate)).toBe(first);
    expect(asked).toBe(1);
  });
});
