import type { AgentProfile } from "../economics/agent.ts";
import { bestResponse } from "../economics/best-response.ts";
import { solveReference } from "../economics/reference-solver.ts";
import { type Certificate, certificateDigest, verifyCertificate } from "../wire/certificate.ts";
import type { Contract } from "../wire/contract.ts";

/**
 * Invariant I4, for one certificate: it verifies offline, and its numbers are those of the
 * economy of exactly its members, computed without the protocol.
 *
 * - every allocation is that member's own best response at the committed prices (recomputed from
 *   its private profile, which only the simulator knows);
 * - an exact certificate's prices are the reference solver's, to the contract's tolerance: a
 *   relative residual eps allows a price error of about eps·m_r / |dS_r/dp_r| (the slope of
 *   aggregate demand at the reference prices), and twice that is accepted;
 * - an approximate certificate (no clearing price; a fixed fee makes demand jump) must fit the
 *   capacity, which verifyCertificate checks.
 *
 * Returns null when the certificate passes, else what is wrong.
 */
export function auditCertificate(
  cert: Certificate,
  contract: Contract,
  profileOf: (agent: string) => AgentProfile | undefined,
): string | null {
  const verdict = verifyCertificate(cert, contract);
  if (!verdict.ok) return `does not verify offline: ${verdict.error}`;
  const c = cert.commit;
  const agents = [];
  for (const a of c.allocations) {
    const profile = profileOf(a.agent);
    if (!profile) return `allocation names ${a.agent}, who is no agent of this run`;
    const x = bestResponse(profile, contract, c.prices).x;
    if (!close(a.x, x, 1e-9))
      return `allocation of ${a.agent} is ${a.x}, its best response at the committed prices is ${x}`;
    agents.push({ id: a.agent, ...profile });
  }
  if (c.approximate) return null;
  const ref = solveReference({ contract, agents });
  const eps = contract.tolerance.residual;
  for (let r = 0; r < contract.resources.length; r++) {
    const pRef = ref.prices[r] as number;
    const p = c.prices[r] as number;
    let slope = 0;
    for (const a of agents) {
      const fr = a.footprint[r] ?? 0;
      slope += bestResponse(a, contract, ref.prices).slope * fr * fr;
    }
    const capacity = contract.resources[r]?.capacity ?? 0;
    const tolerance = Math.max(slope < 0 ? (2 * eps * capacity) / -slope : 0, 1e-9 * Math.max(1, pRef));
    if (Math.abs(p - pRef) > tolerance)
      return `price of ${contract.resources[r]?.id} is ${p}, the reference solver's is ${pRef} (tolerance ${tolerance.toExponential(2)})`;
  }
  return null;
}

function close(a: number, b: number, rel: number): boolean {
  return Math.abs(a - b) <= rel * Math.max(1, Math.abs(b));
}

/** One audit per distinct certificate (digest and signer set): nodes report the same one often. */
export function memoAudit(
  contract: Contract,
  profileOf: (agent: string) => AgentProfile | undefined,
): (cert: Certificate) => string | null {
  const seen = new Map<string, string | null>();
  return (cert) => {
    const key = `${certificateDigest(cert)}/${cert.signatures.map((s) => s.agent).join(",")}`;
    let result = seen.get(key);
    if (result === undefined) {
      result = auditCertificate(cert, contract, profileOf);
      seen.set(key, result);
    }
    return result;
  };
}
