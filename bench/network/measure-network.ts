import type { NodeStatus } from "@walras/node";
import { type BenchCluster, type BenchMarket, benchMarket } from "./bench-cluster.ts";
import { counterSum, counterSumsBy } from "./prometheus-text.ts";

export type NetworkMode = "in-process" | "processes";

/** One network run, start to common certificate. Times in ms, CPU over "up → certificate". */
export interface NetworkRun {
  readonly nodes: number;
  readonly mode: NetworkMode;
  readonly epoch: number;
  /** Rounds of the certified epoch. */
  readonly rounds: number;
  /**
   * Rounds a node closed over the whole run, every epoch included (v2 may certify after a few:
   * a promotion epoch, or one that dropped a starved member): the divisor of the per-round figures.
   */
  readonly roundsRun: number;
  /** From the first node's start until every node is up (listening, protocol running). */
  readonly startToUpMs: number;
  /** Until every node sees a peer on the demand topic. */
  readonly upToMeshMs: number;
  readonly meshToCertificateMs: number;
  readonly upToCertificateMs: number;
  /**
   * The same, by the nodes' own clocks: from "up" until the last node first held a certificate of
   * the certified epoch (its status's `heldSince`). The polled times above include how long a
   * sweep of every node's /status takes, which at 50 busy processes is seconds.
   */
  readonly upToCertificateHeldMs: number;
  /**
   * From "up" until the last node began the certified epoch's rounds, by the nodes' clocks: the
   * founding (or the promotion) before the market. The rest of "up → certificate" is the market.
   */
  readonly upToEpochStartMs: number;
  /** Messages accepted plus published over the whole run, per node per round run. */
  readonly messagesPerNodePerRound: number;
  readonly bytesPerNodePerRound: number;
  /**
   * Catch-up sync requests a node sent (answered or failed) from "up" to the certificate, per node
   * per round run: what rounds cost beyond gossip, and the request storm when every node is slow
   * at once (#10).
   */
  readonly syncRequestsPerNodePerRound: number;
  /** Of those, the share that failed (timed out, or the stream or peer went away). */
  readonly syncFailedShare: number;
  /** Of those, the share that timed out (within the failed share). */
  readonly syncTimedOutShare: number;
  /**
   * Requests whose asker had reset its stream before the server answered (counted by the
   * servers): answers no longer built or sent for askers that gave up.
   */
  readonly syncAbandoned: number;
  /**
   * The same requests by what they were for (`walras_sync_requests_sent_total`'s `purpose`, e.g.
   * `demand:all`, a whole round's demands), most first: per node per round run, and the shares
   * failed (timeouts included) and timed out.
   */
  readonly syncByPurpose: readonly {
    purpose: string;
    perNodePerRound: number;
    failedShare: number;
    timedOutShare: number;
  }[];
  /**
   * Mean time of the requests answered from "up" to the certificate, all purposes together
   * (walras_sync_answer_seconds); NaN when none was. Beside the timed-out share: a mean near the
   * request timeout (3 s at roundMs ≥ 3 s where answers are quick, up to 4.5 s where they are
   * not: walras_sync_request_timeout_seconds) says the answers that came were barely in time.
   */
  readonly syncAnswerMeanSeconds: number;
  /** Messages the answers carried, per node per round run: each one decoded by its asker. */
  readonly syncMessagesPerNodePerRound: number;
  /** CPU of every node process from "up" to the certificate. */
  readonly cpuMs: number;
  /** Messages all nodes accepted from "up" to the certificate. */
  readonly accepted: number;
}

export interface Snapshot {
  accepted: number;
  rounds: number;
  published: number;
  bytes: number;
  /** Sent requests (answered or failed), failed ones (timeouts included) and timed-out ones, by purpose. */
  syncByPurpose: ReadonlyMap<string, SyncCounts>;
  syncAbandoned: number;
  /** walras_sync_answer_seconds' sum and count. */
  syncAnswerSeconds: number;
  syncAnswers: number;
  syncMessages: number;
  /** walras_time_to_agreement_seconds: each node's own time from an epoch's first round to its certificate. */
  agreementSeconds: number;
  agreements: number;
  cpuMs: number;
}

interface SyncCounts {
  sent: number;
  failed: number;
  timedOut: number;
}

/** The requests of every purpose: each request counts under exactly one. */
function syncTotals(s: Pick<Snapshot, "syncByPurpose">): SyncCounts {
  const total = { sent: 0, failed: 0, timedOut: 0 };
  for (const c of s.syncByPurpose.values()) {
    total.sent += c.sent;
    total.failed += c.failed;
    total.timedOut += c.timedOut;
  }
  return total;
}

export const syncSent = (s: Snapshot) => syncTotals(s).sent;

export async function snapshot(cluster: BenchCluster): Promise<Snapshot> {
  const cpuMs = cluster.cpuMs();
  const texts = await cluster.metrics();
  const sum = (metric: string, label?: { name: string; value: string }) =>
    texts.reduce((s, text) => s + counterSum(text, metric, label), 0);
  return {
    accepted: sum("walras_messages_accepted_total"),
    rounds: sum("walras_rounds_total"),
    published: sum("walras_messages_published_total"),
    bytes: sum("walras_message_bytes_total"),
    syncByPurpose: syncRequestsByPurpose(texts),
    syncAbandoned: sum("walras_sync_requests_served_total", { name: "outcome", value: "abandoned" }),
    syncMessages: sum("walras_sync_messages_served_total"),
    syncAnswerSeconds: sum("walras_sync_answer_seconds_sum"),
    syncAnswers: sum("walras_sync_answer_seconds_count"),
    agreementSeconds: sum("walras_time_to_agreement_seconds_sum"),
    agreements: sum("walras_time_to_agreement_seconds_count"),
    cpuMs,
  };
}

/** answered + failed (timeouts included) by purpose, over every node's metrics. */
function syncRequestsByPurpose(texts: readonly string[]): Map<string, SyncCounts> {
  const byPurpose = new Map<string, SyncCounts>();
  for (const outcome of ["answered", "failed", "timed-out"] as const)
    for (const text of texts)
      for (const [purpose, count] of counterSumsBy(text, "walras_sync_requests_sent_total", "purpose", {
        name: "outcome",
        value: outcome,
      })) {
        const entry = byPurpose.get(purpose) ?? { sent: 0, failed: 0, timedOut: 0 };
        entry.sent += count;
        if (outcome !== "answered") entry.failed += count;
        if (outcome === "timed-out") entry.timedOut += count;
        byPurpose.set(purpose, entry);
      }
  return byPurpose;
}

/** `end`'s requests by purpose less `start`'s, per node per round run (`nodeRounds`: n · rounds run), most first. */
export function syncPurposesBetween(
  start: Pick<Snapshot, "syncByPurpose">,
  end: Pick<Snapshot, "syncByPurpose">,
  nodeRounds: number,
): NetworkRun["syncByPurpose"] {
  return [...end.syncByPurpose]
    .map(([purpose, e]) => {
      const s = start.syncByPurpose.get(purpose) ?? { sent: 0, failed: 0, timedOut: 0 };
      const sent = Math.max(1, e.sent - s.sent);
      return {
        purpose,
        perNodePerRound: (e.sent - s.sent) / nodeRounds,
        failedShare: (e.failed - s.failed) / sent,
        timedOutShare: (e.timedOut - s.timedOut) / sent,
      };
    })
    .filter((p) => p.perNodePerRound > 0)
    .sort((a, b) => b.perNodePerRound - a.perNodePerRound);
}

export async function until(
  cluster: BenchCluster,
  condition: (statuses: readonly (NodeStatus | null)[]) => boolean,
  intervalMs: number,
  timeoutMs: number,
  what: string,
): Promise<readonly (NodeStatus | null)[]> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const statuses = await cluster.statuses();
    if (condition(statuses)) return statuses;
    if (performance.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export const meshed = (statuses: readonly (NodeStatus | null)[]) =>
  statuses.every((s) => s !== null && s.topicPeers > 0);

type CertifiedEpoch = NodeStatus["certified"][number];

/**
 * The first n-member certificate that every node has held, by the nodes' own lists of the epochs
 * they held a certificate of (`certified` in /status), so not necessarily seen at one poll: a
 * sweep of /status over 50 busy processes took 6–20 s, and a promotion epoch follows the founding
 * one at once. Read from each status's current certificate alone, a node that moved on to the
 * promotion epoch between two polls was never seen holding the founding epoch's, and the bench
 * waited for the next epoch's certificate (50 processes, one run: 36 nodes seen holding epoch 0's
 * at 23.3–24.0 s after up, 14 already showing epoch 1's; that reading gave epoch 1's, 31.8 s).
 * `held` picks a status's entries that count (default: all of them).
 */
export function commonCertificate(
  n: number,
  held: (status: NodeStatus) => readonly CertifiedEpoch[] = (status) => status.certified,
) {
  const holders = new Map<
    string,
    { certified: CertifiedEpoch; nodes: Set<number>; heldBy: number; startedBy: number }
  >();
  let found: { certified: CertifiedEpoch; heldBy: number; startedBy: number } | null = null;
  return {
    seen: (statuses: readonly (NodeStatus | null)[]): boolean => {
      statuses.forEach((s, i) => {
        for (const c of s ? held(s) : []) {
          if (c.members !== n) continue;
          const entry = holders.get(c.digest) ?? {
            certified: c,
            nodes: new Set<number>(),
            heldBy: 0,
            startedBy: Number.NEGATIVE_INFINITY,
          };
          holders.set(c.digest, entry);
          entry.nodes.add(i);
          entry.heldBy = Math.max(entry.heldBy, c.heldSince);
          if (c.startedAt !== null) entry.startedBy = Math.max(entry.startedBy, c.startedAt);
        }
      });
      // The earliest epoch every node held, should one poll complete two.
      found ??=
        [...holders.values()]
          .filter((entry) => entry.nodes.size === n)
          .sort((a, b) => a.certified.epoch - b.certified.epoch)[0] ?? null;
      return found !== null;
    },
    found: (): CertifiedEpoch | null => found?.certified ?? null,
    /** When the last node first held the certificate's epoch (ms since 1970, the nodes' clocks). */
    heldBy: (): number => found?.heldBy ?? Number.NaN,
    /** When the last node that ran the epoch began its rounds (the nodes' clocks; NaN if none did). */
    startedBy: (): number => (found && Number.isFinite(found.startedBy) ? found.startedBy : Number.NaN),
  };
}

/**
 * Starts `n` nodes with `start`, waits for a mesh and for every node to have held one n-member
 * certificate, stops them.
 */
export async function measureNetwork(
  n: number,
  mode: NetworkMode,
  start: (market: BenchMarket) => Promise<BenchCluster>,
  /** How long each phase (mesh, certificate) may take; default 60 s + 2 s per node. */
  timeoutMs = 60_000 + n * 2_000,
  seed = n,
  roundMs?: number,
): Promise<NetworkRun> {
  const market = benchMarket(n, seed, roundMs);
  // Polling /status costs the nodes CPU that the bench counts: 100 ms is resolution enough for
  // times of seconds, and HTTP to process nodes costs more, so they are polled less often.
  const intervalMs = mode === "in-process" ? 100 : 500;
  const t0 = performance.now();
  const cluster = await start(market);
  try {
    const tUp = performance.now();
    const upWall = Date.now();
    const up = await snapshot(cluster);
    await until(cluster, meshed, intervalMs, timeoutMs, "a mesh");
    const tMesh = performance.now();
    const common = commonCertificate(n);
    await until(cluster, common.seen, intervalMs, timeoutMs, "a common certificate");
    const tCert = performance.now();
    const end = await snapshot(cluster);
    const certificate = common.found();
    const rounds = (certificate?.round ?? 0) + 1;
    const roundsRun = Math.max(1, end.rounds / n);
    // From "up": before it, joiners ask for the founding decision each time they announce.
    const [atUp, atEnd] = [syncTotals(up), syncTotals(end)];
    const syncSentAfterUp = atEnd.sent - atUp.sent;
    return {
      nodes: n,
      mode,
      epoch: certificate?.epoch ?? 0,
      rounds,
      roundsRun,
      startToUpMs: tUp - t0,
      upToMeshMs: tMesh - tUp,
      meshToCertificateMs: tCert - tMesh,
      upToCertificateMs: tCert - tUp,
      upToCertificateHeldMs: common.heldBy() - upWall,
      upToEpochStartMs: common.startedBy() - upWall,
      messagesPerNodePerRound: (end.accepted + end.published) / n / roundsRun,
      bytesPerNodePerRound: end.bytes / n / roundsRun,
      syncRequestsPerNodePerRound: syncSentAfterUp / n / roundsRun,
      syncFailedShare: (atEnd.failed - atUp.failed) / Math.max(1, syncSentAfterUp),
      syncTimedOutShare: (atEnd.timedOut - atUp.timedOut) / Math.max(1, syncSentAfterUp),
      syncByPurpose: syncPurposesBetween(up, end, n * roundsRun),
      syncAbandoned: end.syncAbandoned - up.syncAbandoned,
      syncMessagesPerNodePerRound: (end.syncMessages - up.syncMessages) / n / roundsRun,
      syncAnswerMeanSeconds:
        end.syncAnswers > up.syncAnswers
          ? (end.syncAnswerSeconds - up.syncAnswerSeconds) / (end.syncAnswers - up.syncAnswers)
          : Number.NaN,
      cpuMs: end.cpuMs - up.cpuMs,
      accepted: end.accepted - up.accepted,
    };
  } finally {
    await cluster.stop();
  }
}
