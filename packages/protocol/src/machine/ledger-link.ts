import type { Digest } from "../wire/ids.ts";
import type { EpochCause } from "../wire/messages.ts";

/**
 * How a plan's `ledger` stands against this node's own chain (docs/protocol.md §12). A plan for
 * epoch e+1 is proposed during epoch e, so an honest proposer names one of two links: e's plan's
 * own `ledger` (it holds no certificate of e yet) or the digest of e's certificate. Anything else
 * would have honest members sign commits whose `previous` forks the chain.
 *
 * A plan naming a cause an honest proposer names only once it holds e's certificate
 * (`CERTIFIED_CAUSES`) must link to that certificate: e's plan's own link there would drop e's
 * certificate from the chain.
 *
 * - `linked`: one of the two, as far as this node can tell;
 * - `unknown`: neither e's plan's link nor a certificate of e this node holds, and it holds none,
 *   so the digest may be of the certificate it lacks (the proposer assembled it first);
 * - `forged`: no honest proposer names it: this node holds e's certificate and the link is
 *   neither (one certificate body per epoch, §9.5 I3), or it is null where e's plan links, or it
 *   is e's plan's link in a plan that must name e's certificate.
 */
export type LinkVerdict = "linked" | "unknown" | "forged";

/**
 * Causes a proposer names only while it holds the current epoch's certificate: `period` (the slot
 * is certified and its time is up) and `promote` (bidders vote once the slot is certified).
 */
export const CERTIFIED_CAUSES: readonly EpochCause[] = ["period", "promote"];

export interface ChainView {
  /** The current epoch's plan's `ledger`: what its commits name as `previous`. */
  readonly planLedger: Digest | null;
  /** Whether this node assembled a certificate of the current epoch. */
  readonly certified: boolean;
  /**
   * The current epoch's certificate has this digest: the one this node assembled, or a quorum of
   * the members signed a commit body with it (among the commits held here).
   */
  certifies(digest: Digest): boolean;
}

export function judgeLink(
  ledger: Digest | null,
  cause: readonly EpochCause[],
  chain: ChainView,
): LinkVerdict {
  const needsCertificate = cause.some((c) => CERTIFIED_CAUSES.includes(c));
  if (ledger === chain.planLedger) return needsCertificate ? "forged" : "linked";
  // The plan's link is not null here, so no honest proposer in this epoch names none.
  if (ledger === null) return "forged";
  if (chain.certifies(ledger)) return "linked";
  return chain.certified ? "forged" : "unknown";
}
