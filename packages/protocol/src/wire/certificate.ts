import { z } from "zod";
import { aggregateSupply, measureResidual } from "../economics/residual.ts";
import { verifyAgentSignature } from "./agent-key.ts";
import { canonicalBytes } from "./canonical-json.ts";
import { type Contract, contractId } from "./contract.ts";
import { sha256Hex } from "./hash.ts";
import { asDigest, compareIds, type Digest } from "./ids.ts";
import { type CommitMessage, commitMessageSchema, type Unsigned } from "./messages.ts";
import { base64ToBytes, signedBody, signingBytes } from "./signing.ts";

/**
 * An equilibrium certificate: one commit body and the signatures of at least a quorum of the
 * epoch's members over it. Anyone holding the contract can check it offline.
 */
export const certificateSchema = z.strictObject({
  commit: commitMessageSchema.omit({ agent: true, sig: true }),
  signatures: z.array(z.strictObject({ agent: z.string(), sig: z.string() })).min(1),
});
export type Certificate = z.output<typeof certificateSchema>;
export type CommitBody = Omit<CommitMessage, "agent" | "sig">;

export function commitBody(m: CommitMessage): CommitBody {
  const { agent: _a, sig: _s, ...body } = m;
  return body;
}

/**
 * Digests by commit body object. Bodies are immutable once built or decoded, and a machine asks
 * for the digest of the same certificate many times (the ledger's tip, links, amendments): the
 * encoding was the simulator's largest cost after signatures.
 */
const bodyDigests = new WeakMap<CommitBody, Digest>();

export function commitBodyDigest(body: CommitBody): Digest {
  let digest = bodyDigests.get(body);
  if (!digest) {
    digest = asDigest(sha256Hex(canonicalBytes(body)));
    bodyDigests.set(body, digest);
  }
  return digest;
}

/**
 * The digest of a commit's body, by message object (messages are immutable once signed or
 * decoded). A node asks once per commit; a simulation hands one commit object to every node, and
 * at a thousand members re-encoding its body for each would dominate the run. The bytes hashed
 * are the ones the commit's signature covers, already made when it was signed or checked:
 * re-encoding an 8 KB body for each of 50 commits was 5% of a 50-node network's CPU while it
 * certified.
 */
export function commitMessageBodyDigest(m: CommitMessage): Digest {
  let digest = messageBodyDigests.get(m);
  if (!digest) {
    digest = asDigest(sha256Hex(signedBody(m)));
    messageBodyDigests.set(m, digest);
  }
  return digest;
}
const messageBodyDigests = new WeakMap<CommitMessage, Digest>();

export function quorumSize(contract: Contract, members: number): number {
  // A tiny epsilon keeps 2/3 of 3 at 2, not 3, despite 2/3 being stored inexact.
  return Math.max(1, Math.ceil(contract.quorum * members - 1e-9));
}

export function buildCertificate(commits: readonly CommitMessage[]): Certificate {
  const first = commits[0];
  if (!first) throw new Error("a certificate needs at least one commit");
  const signatures = [...commits]
    .sort((a, b) => compareIds(a.agent, b.agent))
    .map((c) => ({ agent: c.agent, sig: c.sig }));
  const commit = commitBody(first);
  // The certificate's body is a new object each time a commit joins; its digest is the commits'.
  bodyDigests.set(commit, commitMessageBodyDigest(first));
  return { commit, signatures };
}

export function certificateDigest(cert: Certificate): Digest {
  return commitBodyDigest(cert.commit as CommitBody);
}

export type CertificateCheck =
  | { ok: true; signers: number; quorum: number; approximate: boolean }
  | { ok: false; error: string };

/**
 * Everything a verifier needs is the certificate and the contract: signatures verify under the
 * keys inside the agent ids, the signers are members, enough of them signed, and the committed
 * allocation satisfies the contract's stopping rule at the committed prices.
 */
/** Checks one signature over the commit's signing bytes; the simulator passes a memo of it. */
export type CommitSignatureCheck = (agent: string, bytes: Uint8Array, sig: string) => boolean;

const checkSignature: CommitSignatureCheck = (agent, bytes, sig) =>
  verifyAgentSignature(agent, bytes, base64ToBytes(sig));

export function verifyCertificate(
  cert: Certificate,
  contract: Contract,
  verifySignature: CommitSignatureCheck = checkSignature,
): CertificateCheck {
  const c = cert.commit;
  const id = contractId(contract);
  // Under amended terms the commit names them; the document given must be those terms.
  if (c.terms !== undefined) {
    if (c.terms !== id) return { ok: false, error: `commit.terms: ${c.terms} is not these terms (${id})` };
  } else if (c.contract !== id)
    return { ok: false, error: `commit.contract: ${c.contract} is not this contract (${id})` };
  const members = c.members;
  for (let i = 1; i < members.length; i++) {
    if (compareIds(members[i - 1] as string, members[i] as string) >= 0)
      return { ok: false, error: "commit.members: must be sorted and unique" };
  }
  if (contract.membership.policy === "allowlist") {
    const allowed = new Set(contract.membership.members);
    const outsider = members.find((m) => !allowed.has(m));
    if (outsider)
      return { ok: false, error: `commit.members: ${outsider} is not on the contract's allowlist` };
  }
  const R = contract.resources.length;
  if (c.prices.length !== R) return { ok: false, error: `commit.prices: must have ${R} entries` };
  if (c.allocations.length !== members.length || c.allocations.some((a, i) => a.agent !== members[i]))
    return { ok: false, error: "commit.allocations: must list exactly the members, in order" };
  const badFootprint = c.allocations.findIndex((a) => a.footprint.length !== R);
  if (badFootprint >= 0)
    return { ok: false, error: `commit.allocations[${badFootprint}].footprint: must have ${R} entries` };

  const bytes = signingBytes({ ...c, kind: "commit", agent: "" } as unknown as Unsigned<CommitMessage>);
  const memberSet = new Set(members);
  const seen = new Set<string>();
  for (const [i, s] of cert.signatures.entries()) {
    if (!memberSet.has(s.agent))
      return { ok: false, error: `signatures[${i}]: ${s.agent} is not a member of epoch ${c.epoch}` };
    if (seen.has(s.agent)) return { ok: false, error: `signatures[${i}]: ${s.agent} signed twice` };
    seen.add(s.agent);
    if (!verifySignature(s.agent, bytes, s.sig))
      return { ok: false, error: `signatures[${i}]: signature by ${s.agent} does not verify` };
  }
  const quorum = quorumSize(contract, members.length);
  if (seen.size < quorum)
    return {
      ok: false,
      error: `signatures: ${seen.size} of ${members.length} members signed, quorum is ${quorum}`,
    };

  if (c.approximate) {
    // No exact equilibrium exists; what can be checked is that the allocation fits.
    const supply = aggregateSupply(R, c.allocations);
    const over = contract.resources.findIndex(
      (r, i) => (supply[i] as number) > r.capacity * (1 + contract.tolerance.residual),
    );
    if (over >= 0)
      return {
        ok: false,
        error: `commit: approximate allocation exceeds the capacity of ${contract.resources[over]?.id}`,
      };
    return { ok: true, signers: seen.size, quorum, approximate: true };
  }
  const residual = measureResidual(contract, c.prices, c.allocations);
  if (residual > contract.tolerance.residual * 1.000001 + 1e-12)
    return {
      ok: false,
      error: `commit: allocations leave residual ${residual}, above the contract's tolerance ${contract.tolerance.residual}`,
    };
  return { ok: true, signers: seen.size, quorum, approximate: false };
}
