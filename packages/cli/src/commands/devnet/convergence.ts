import type { CertificateSummary, NodeStatus } from "@walras/node";

/**
 * The certificate every one of these nodes holds, when they all hold the same one (same digest)
 * and it names exactly `members`; otherwise null.
 */
export function commonCertificate(
  statuses: readonly (NodeStatus | null)[],
  members: readonly string[],
): CertificateSummary | null {
  const want = [...members].sort().join(",");
  const first = statuses[0]?.certificate;
  if (!first || [...first.members].sort().join(",") !== want) return null;
  return statuses.every((s) => s?.certificate?.digest === first.digest) ? first : null;
}
