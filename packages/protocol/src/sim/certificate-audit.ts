import type { AgentProfile } from "../economics/agent.ts";
import { bestResponse } from "../economics/best-response.ts";
import { solveReference } from "../economics/reference-solver.ts";
import { verifyAgentSignature } from "../wire/agent-key.ts";
import {
  type Certificate,
  type CommitSignatureCheck,
  certificateDigest,
  verifyCertificate,
} from "../wire/certificate.ts";
import type { Contract } from "../wire/contract.ts";
import { base64ToBytes } from "../wire/signing.ts";

/**
 * Invariant I4, for one certificate: it verifies offline, and its numbers are those of the
 * economy of exactly its members, computed without the protocol.
 *
 * - every allocation is that member's own best response at the committed prices (recomputed from
 *   its private profile, which only the simulator knows); in an approximate certificate whose best
 *   responses over-use a resource, each scaled by the one factor min_r m_r / S_r (proportional
 *   rationing, economics/settlement.ts), recomputed here from the same best responses;
 * - an exact certificate's prices are the reference solver's, to the contract's tolerance: a
 *   relative residual eps allows a price error of about eps·m_r / |dS_r/dp_r| (the slope of
 *   aggregate demand at the reference prices), and twice that is accepted; other prices only where
 *   the certificate is another equilibrium (`otherEquilibrium`);
 * - an approximate certificate (no clearing price; a fixed fee makes demand jump) must fit the
 *   capacity, which verifyCertificate checks. Without a fixed fee every honest member's demand is
 *   continuous and decreasing in the prices, so an exact clearing price exists and the price rule
 *   reaches it: there an approximate certificate is a failure, unless its reason is
 *   "price-ceiling" (the clearing price exists but is not representable on the wire).
 *
 * Returns null when the certificate passes, else what is wrong.
 */
export function auditCertificate(
  cert: Certificate,
  contract: Contract,
  profileOf: (agent: string) => AgentProfile | undefined,
  verifySignature?: CommitSignatureCheck,
): string | null {
  const verdict = verifyCertificate(cert, contract, verifySignature);
  if (!verdict.ok) return `does not verify offline: ${verdict.error}`;
  const c = cert.commit;
  const agents = [];
  const responses: number[] = [];
  for (const a of c.allocations) {
    const profile = profileOf(a.agent);
    if (!profile) return `allocation names ${a.agent}, who is no agent of this run`;
    responses.push(bestResponse(profile, contract, c.prices).x);
    agents.push({ id: a.agent, ...profile });
  }
  const factor = c.approximate ? rationing(contract, agents, responses) : 1;
  for (const [i, a] of c.allocations.entries()) {
    const x = (responses[i] as number) * factor;
    if (!close(a.x, x, 1e-9))
      return `allocation of ${a.agent} is ${a.x}, its best response at the committed prices is ${responses[i]}${factor === 1 ? "" : ` (x${factor} rationed: ${x})`}`;
  }
  if (c.approximate) {
    if (contract.fees.fixed !== 0 || c.reason === "price-ceiling") return null;
    return `is approximate (reason ${c.reason ?? "unstated"}, residual ${c.residual}) without a fixed fee, where honest members clear exactly`;
  }
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
      return otherEquilibrium(c.allocations, ref.allocations, contract)
        ? null
        : `price of ${contract.resources[r]?.id} is ${p}, the reference solver's is ${pRef} (tolerance ${tolerance.toExponential(2)})`;
  }
  return null;
}

/**
 * Prices other than the reference's are right in two cases, the certificate's allocations being
 * every member's best response at its own prices and clearing (checked before): without a fixed
 * fee the equilibrium allocation is unique but its prices are not when fewer members are active
 * than resources are priced, so the allocation must be the reference's; with a fixed fee who
 * enters can differ, and any such clearing set of best responses is a contract equilibrium (sim
 * seed 4200: six agents, two resources, g = 1, certified p = (0.2115, 0.0713) against the
 * reference's (0.0114, ...)).
 */
function otherEquilibrium(
  certified: readonly { agent: string; x: number }[],
  reference: readonly { agent: string; x: number }[],
  contract: Contract,
): boolean {
  if (contract.fees.fixed > 0) return true;
  return reference.every((a) => close(certified.find((c) => c.agent === a.agent)?.x ?? 0, a.x, 1e-6));
}

/** The factor an approximate settlement scales every demand by, so that they fit capacity (or 1). */
function rationing(
  contract: Contract,
  agents: readonly AgentProfile[],
  responses: readonly number[],
): number {
  let factor = 1;
  contract.resources.forEach((r, j) => {
    let supply = 0;
    agents.forEach((a, i) => {
      supply += (a.footprint[j] ?? 0) * (responses[i] as number);
    });
    if (supply > r.capacity) factor = Math.min(factor, r.capacity / supply);
  });
  return factor;
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
  // Nodes assemble one commit's signatures into different sets: each signature is checked once.
  const signatures = new Map<string, boolean>();
  return (cert) => {
    const digest = certificateDigest(cert);
    const key = `${digest}/${cert.signatures.map((s) => s.agent).join(",")}`;
    let result = seen.get(key);
    if (result === undefined) {
      const verify: CommitSignatureCheck = (agent, bytes, sig) => {
        const k = `${digest}/${agent}/${sig}`;
        let ok = signatures.get(k);
        if (ok === undefined) {
          ok = verifyAgentSignature(agent, bytes, base64ToBytes(sig));
          signatures.set(k, ok);
        }
        return ok;
      };
      result = auditCertificate(cert, contract, profileOf, verify);
      seen.set(key, result);
    }
    return result;
  };
}
