import {
  type AgentProfile,
  type Certificate,
  type CertificateCheck,
  type Contract,
  computeMetrics,
  type Metrics,
  type ReferenceSolution,
  type Scenario,
  scenarioSchema,
  solveReference,
  verifyCertificate,
} from "@walras/protocol";

/** An agent as the network knows it (its peer id) with the private profile only its node holds. */
export interface KnownAgent {
  readonly id: string;
  readonly profile: AgentProfile;
}

export interface ReferenceCheck {
  readonly verification: CertificateCheck;
  /** The contract and every member's profile under its peer id. */
  readonly scenario: Scenario;
  readonly reference: ReferenceSolution;
  readonly metrics: Metrics;
  /**
   * Prices: max |network - reference| / max(|network|, |reference|) (relative). Allocations: the
   * same with a floor of 1 in the denominator (relative, absolute below one unit), so an agent the
   * reference leaves at 0 is not judged on its rounding error.
   */
  readonly maxRelativeDifference: { readonly prices: number; readonly allocations: number };
  /** Verified, same members, and both differences within the tolerance. */
  readonly pass: boolean;
  /** Why it did not pass, when it did not. */
  readonly failure?: string;
}

/**
 * Checks a network's certificate the way an outsider holding every profile would: the offline
 * verifier, then the reference solver on the combined scenario (the certificate's members under
 * their peer ids), then the outcome's metrics.
 */
export function checkAgainstReference(
  contract: Contract,
  agents: readonly KnownAgent[],
  certificate: Certificate,
  tolerance = 1e-6,
): ReferenceCheck {
  const verification = verifyCertificate(certificate, contract);
  const members = new Set(certificate.commit.members);
  const inMarket = agents.filter((a) => members.has(a.id));
  const scenario = scenarioSchema.parse({
    contract,
    agents: inMarket.map((a) => ({ id: a.id, ...a.profile })),
  });
  const reference = solveReference(scenario);
  const outcome = {
    prices: certificate.commit.prices,
    allocations: certificate.commit.allocations.map((a) => ({ agent: a.agent, x: a.x })),
  };
  const metrics = computeMetrics(scenario, outcome);
  const refX = new Map(reference.allocations.map((a) => [a.agent as string, a.x]));
  const maxRelativeDifference = {
    prices: maxRelative(outcome.prices, reference.prices, 1e-12),
    allocations: maxRelative(
      outcome.allocations.map((a) => a.x),
      outcome.allocations.map((a) => refX.get(a.agent) ?? Number.NaN),
      1,
    ),
  };
  let failure: string | undefined;
  if (!verification.ok) failure = `certificate does not verify: ${verification.error}`;
  else if (inMarket.length !== members.size)
    failure = "the certificate names members whose profiles are unknown";
  else if (!(maxRelativeDifference.prices <= tolerance))
    failure = `prices differ from the reference by ${maxRelativeDifference.prices} (relative), above ${tolerance}`;
  else if (!(maxRelativeDifference.allocations <= tolerance))
    failure = `allocations differ from the reference by ${maxRelativeDifference.allocations} (relative), above ${tolerance}`;
  return {
    verification,
    scenario,
    reference,
    metrics,
    maxRelativeDifference,
    pass: failure === undefined,
    ...(failure ? { failure } : {}),
  };
}

function maxRelative(ours: readonly number[], theirs: readonly number[], floor: number): number {
  if (ours.length !== theirs.length) return Number.POSITIVE_INFINITY;
  let worst = 0;
  ours.forEach((a, i) => {
    const b = theirs[i] ?? Number.NaN;
    const d = Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), floor);
    worst = Number.isNaN(d) ? Number.POSITIVE_INFINITY : Math.max(worst, d);
  });
  return worst;
}
