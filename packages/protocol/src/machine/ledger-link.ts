import type { Digest } from "../wire/ids.ts";

/**
 * How a plan's `ledger` stands against this node's own chain (docs/protocol.md §12). A plan for
 * epoch e+1 is proposed during epoch e, so an honest proposer names one of two links: e's plan's
 * own `ledger` (it holds no certificate of e yet) or the digest of e's certificate. Anything else
 * would have honest members sign commits whose `previous` forks the chain.
 *
 * - `linked`: one of the two, as far as this node can tell;
 * - `unknown`: neither e's plan's link nor a certificate of e this node holds, and it holds none,
 *   so the digest may be of the certificate it lacks (the proposer assembled it first);
 * - `forged`: no honest proposer names it: this node holds e's certificate and the link is
 *   neither (one certificate body per epoch, §9.5 I3), or it is null where e's plan links.
 */
export type LinkVerdict = "linked" | "unknown" | "forged";

export interface ChainView {
  /** The current epoch's plan's `ledger`: what its commits name as `previous`. */
  readonly planLedger: Digest | null;
  /** The digest of the current epoch's certificate this node assembled, or null. */
  readonly certified: Digest | null;
  /** A quorum of the current epoch's members signed a commit body with this digest (held here). */
  certifies(digest: Digest): boolean;
}

export function judgeLink(ledger: Digest | null, chain: ChainView): LinkVerdict {
  if (ledger === chain.planLedger) return "linked";
  // The plan's link is not null here, so no honest proposer in this epoch names none.
  if (ledger === null) return "forged";
  if (ledger === chain.certified || chain.certifies(ledger)) return "linked";
  return chain.certified === null ? "unknown" : "forged";
}
