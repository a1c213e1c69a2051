import {
  type Certificate,
  type CertificateCheck,
  type Charges,
  type Contract,
  certificateDigest,
  chargesAt,
  contractId,
  verifyCertificate,
} from "@walras/protocol";

/** A certificate as people read it: whether it verifies against the terms it names, and who owes what. */
export interface CertificateView {
  readonly epoch: number;
  readonly round: number;
  readonly digest: string;
  readonly members: number;
  readonly signers: number;
  /** Every member signed (a certificate needs only a quorum). */
  readonly complete: boolean;
  readonly approximate: boolean;
  readonly verification: CertificateCheck;
  /** By resource, in the contract's order. */
  readonly prices: readonly number[];
  readonly residual: number;
  readonly charges: Charges;
}

/**
 * Views of certificates, each verified once: verifyCertificate checks every signature, and the
 * same certificate object is asked for by every dashboard frame and /certificates request. Only
 * a view made under the very terms the commit names is kept: `termsOf` gives the terms in effect
 * while amended terms have not reached this node yet, and a failure remembered then would stay on
 * the dashboard after they arrive.
 */
export function createCertificateViews(
  termsOf: (certificate: Certificate) => Contract,
): (certificate: Certificate) => CertificateView {
  const seen = new WeakMap<Certificate, CertificateView>();
  return (certificate) => {
    const cached = seen.get(certificate);
    if (cached) return cached;
    const c = certificate.commit;
    // After an amendment the commit names the amended terms: checked and charged under those.
    const contract = termsOf(certificate);
    const view: CertificateView = {
      epoch: c.epoch,
      round: c.round,
      digest: certificateDigest(certificate),
      members: c.members.length,
      signers: certificate.signatures.length,
      complete: certificate.signatures.length === c.members.length,
      approximate: c.approximate === true,
      verification: verifyCertificate(certificate, contract),
      prices: c.prices,
      residual: c.residual,
      charges: chargesAt(contract, c.prices, c.allocations),
    };
    if (contractId(contract) === (c.terms ?? c.contract)) seen.set(certificate, view);
    return view;
  };
}
