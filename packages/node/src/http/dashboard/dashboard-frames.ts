import type { Certificate, Contract, IgnoreReason } from "@walras/protocol";
import type { CertificateView } from "../../history/certificate-view.ts";
import type { ClosedRound, EpochStart, MarketHistory } from "../../history/market-history.ts";
import type { NodeMetrics } from "../../metrics/node-metrics.ts";
import type { NodeStatus } from "../../node-status.ts";

/** What the dashboard reads from its node: only the node's public surface. */
export interface DashboardSource {
  /** The terms in effect now: the contract, or the terms its amendments made. */
  terms(): Contract;
  /** The terms a certificate ran under (the ones its commit names). */
  termsOf(certificate: Certificate): Contract;
  readonly history: MarketHistory;
  readonly metrics: NodeMetrics;
  status(): NodeStatus;
  /** Peer ids of the libp2p connections open now. */
  connectedPeers(): readonly string[];
  /** A frame that could not be built (a bug: the feed keeps running). */
  onError?(err: unknown): void;
}

/** Validation verdicts as counted by the node's prom-client counters. */
export interface Traffic {
  readonly accepted: Readonly<Record<string, number>>;
  readonly rejected: Readonly<Record<string, number>>;
  /** Harmless: late, repeated, own or far-future messages (counted with the rejections in /metrics). */
  readonly ignored: Readonly<Record<string, number>>;
}

/**
 * The `live` event: the node's status now. The member list can be long and changes only with
 * the epoch, so it travels only when it changed (and always in the snapshot).
 */
export interface LiveFrame {
  readonly status: Omit<NodeStatus, "members">;
  readonly members?: readonly string[];
  readonly peers: readonly string[];
  readonly traffic: Traffic;
}

/** The `snapshot` event, first on every connection: everything the page draws. */
export interface SnapshotFrame extends LiveFrame {
  readonly members: readonly string[];
  readonly contract: Contract;
  readonly rounds: readonly ClosedRound[];
  readonly epochs: readonly EpochStart[];
  /** Newest first. */
  readonly certificates: readonly CertificateView[];
}

/** Each `ignore` reason of the protocol's Verdict, checked complete by the compiler. */
const IGNORED: Readonly<Record<IgnoreReason, true>> = {
  duplicate: true,
  stale: true,
  future: true,
  own: true,
  unasked: true,
};

export async function readTraffic(metrics: NodeMetrics): Promise<Traffic> {
  const [accepted, rejected] = await Promise.all([
    metrics.messagesAccepted.get(),
    metrics.messagesRejected.get(),
  ]);
  const kinds = accepted.values.map((v) => [String(v.labels.kind), v.value] as const);
  const reasons = rejected.values.map((v) => [String(v.labels.reason), v.value] as const);
  const isIgnored = (reason: string) => Object.hasOwn(IGNORED, reason);
  return {
    accepted: Object.fromEntries(kinds),
    rejected: Object.fromEntries(reasons.filter(([r]) => !isIgnored(r))),
    ignored: Object.fromEntries(reasons.filter(([r]) => isIgnored(r))),
  };
}

export function liveFrame(
  source: DashboardSource,
  traffic: Traffic,
): LiveFrame & { members: readonly string[] } {
  const { members, ...status } = source.status();
  return { status, members, peers: source.connectedPeers(), traffic };
}

export function snapshotFrame(
  source: DashboardSource,
  traffic: Traffic,
  view: (certificate: Certificate) => CertificateView,
): SnapshotFrame {
  const { members, ...status } = source.status();
  return {
    status,
    members,
    peers: source.connectedPeers(),
    traffic,
    contract: source.terms(),
    rounds: source.history.rounds(),
    epochs: source.history.epochs(),
    certificates: source.history.certificates().map(view).reverse(),
  };
}
