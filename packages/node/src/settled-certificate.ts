import type { CertificateSummary, NodeStatus } from "./node-status.ts";

/**
 * The certificate every one of these nodes holds, when they all hold the same one (same digest),
 * it names exactly `members`, and the network has settled on it: it is every node's current
 * epoch, and every member votes (the founding epoch is followed at once by one that promotes its
 * bidders to voters, protocol §9.1: a bid changed before that lands in the promotion slot).
 * Otherwise null.
 */
export function commonCertificate(
  statuses: readonly (NodeStatus | null)[],
  members: readonly string[],
): CertificateSummary | null {
  const want = [...members].sort().join(",");
  const first = statuses[0]?.certificate;
  if (!first || [...first.members].sort().join(",") !== want) return null;
  return statuses.every(
    (s) =>
      s?.certificate?.digest === first.digest &&
      s.epoch === first.epoch &&
      [...s.voters].sort().join(",") === want,
  )
    ? first
    : null;
}
