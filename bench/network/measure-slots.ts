import type { NodeStatus } from "@walras/node";
import {
  type AgentProfile,
  createPrng,
  type Prng,
  scenarioSchema,
  solveReference,
  uniform,
  type Valuation,
} from "@walras/protocol";
import { priceGap } from "@walras/test-support";
import { type BenchCluster, type BenchMarket, benchMarket } from "./bench-cluster.ts";
import {
  commonCertificate,
  meshed,
  type NetworkMode,
  type Snapshot,
  snapshot,
  syncSent,
  until,
} from "./measure-network.ts";

/**
 * One slot of a market over time on a network that is already running (docs/protocol.md §12):
 * some members change their bids, their `rebid`s open a new slot, and it clears from the last
 * slot's prices. Times in ms from the new bids to the certificate.
 */
export interface SlotRun {
  readonly nodes: number;
  readonly mode: NetworkMode;
  readonly slot: number;
  /** Members whose bids changed. */
  readonly rebids: number;
  /** The certified slot's epoch, and how many epochs were decided to reach it. */
  readonly epoch: number;
  readonly epochs: number;
  /** Rounds of the certified slot. */
  readonly rounds: number;
  /** From the new bids until every node was seen holding the new market's certificate (polled). */
  readonly toCertificateMs: number;
  /** The same by the nodes' own clocks: until the last node first held it (`heldSince`). */
  readonly toCertificateHeldMs: number;
  /**
   * Each node's own time from the first round of an epoch to its certificate, the mean over the
   * epochs nodes certified in the slot (the node's walras_time_to_agreement_seconds): the market's
   * share of the slot, free of the polling's delay. The rest is the decision and the polling.
   */
  readonly marketMs: number;
  /** How long one sweep of every node's /status took, on average: the polled times' resolution. */
  readonly pollMs: number;
  /** max_r |p_r − p*_r| / p*_r against the reference solver's equilibrium of the new bids. */
  readonly priceGap: number;
  readonly messagesPerNode: number;
  readonly syncRequestsPerNode: number;
  readonly cpuMs: number;
  readonly accepted: number;
}

/** A certificate counts as the new market's when its prices are this close to the reference's. */
const AT_REFERENCE = 1e-6;
/** A draw of new bids must move some equilibrium price by more than this, or the slot shows nothing. */
const MOVES_PRICE = 1e-3;
/** The share of members that change their bids in a slot (at least one). */
const REBID_SHARE = 0.1;

/**
 * Starts `n` nodes, waits for the first n-member certificate and for the network to settle (no
 * epoch decision under way, every node certified in its current epoch), then runs `slots` slots:
 * each time a tenth of the members (at least one) scale their valuations by 0.7–0.9 or 1.1–1.3,
 * and the slot ends when every node holds an n-member certificate of a later epoch whose prices
 * are the reference solver's equilibrium for the new bids.
 */
export async function measureSlots(
  n: number,
  mode: NetworkMode,
  start: (market: BenchMarket) => Promise<BenchCluster>,
  options: {
    readonly slots: number;
    readonly timeoutMs?: number;
    readonly seed?: number;
    readonly roundMs?: number;
  },
  report: (run: SlotRun) => void,
): Promise<void> {
  const seed = options.seed ?? n;
  const timeoutMs = options.timeoutMs ?? 60_000 + n * 2_000;
  const market = benchMarket(n, seed, options.roundMs);
  const intervalMs = mode === "in-process" ? 100 : 500;
  const prng = createPrng(seed);
  const cluster = await start(market);
  const sweeps = sweepTimer(cluster);
  const timed: BenchCluster = { ...cluster, statuses: sweeps.statuses };
  try {
    await until(cluster, meshed, intervalMs, timeoutMs, "a mesh");
    const first = commonCertificate(n);
    await until(cluster, first.seen, intervalMs, timeoutMs, "a first certificate");
    let statuses = await until(cluster, settled, intervalMs, timeoutMs, "a settled network");
    const ids = statuses.map((s) => (s as NodeStatus).peerId);
    let bids = [...market.agents];
    for (let slot = 1; slot <= options.slots; slot++) {
      const before = await snapshot(cluster);
      const lastEpoch = (statuses[0] as NodeStatus).certificate?.epoch ?? 0;
      const draw = newBids(prng, bids, lastPrices(statuses[0] as NodeStatus), (agents) =>
        equilibrium(market, ids, agents),
      );
      sweeps.take();
      const t0 = performance.now();
      const t0Wall = Date.now();
      await Promise.all(draw.changed.map((i) => cluster.rebid(i, draw.bids[i] as AgentProfile)));
      bids = draw.bids;
      const reached = atPrices(n, lastEpoch, draw.prices);
      statuses = await until(timed, reached.seen, intervalMs, timeoutMs, `slot ${slot}'s certificate`);
      const toCertificateMs = performance.now() - t0;
      const end = await snapshot(cluster);
      const certificate = reached.found() as CertifiedEpoch;
      report({
        nodes: n,
        mode,
        slot,
        rebids: draw.changed.length,
        epoch: certificate.epoch,
        epochs: certificate.epoch - lastEpoch,
        rounds: certificate.round + 1,
        toCertificateMs,
        toCertificateHeldMs: reached.heldBy() - t0Wall,
        marketMs:
          (1000 * (end.agreementSeconds - before.agreementSeconds)) /
          Math.max(1, end.agreements - before.agreements),
        pollMs: sweeps.take(),
        priceGap: reached.priceGap(),
        ...perNode(before, end, n),
      });
      statuses = await until(cluster, settled, intervalMs, timeoutMs, "a settled network");
    }
  } finally {
    await cluster.stop();
  }
}

type CertifiedEpoch = NodeStatus["certified"][number];

/** Times every sweep of /status; `take` gives the mean since the last take. */
function sweepTimer(cluster: BenchCluster) {
  let total = 0;
  let count = 0;
  return {
    statuses: async () => {
      const t = performance.now();
      const statuses = await cluster.statuses();
      total += performance.now() - t;
      count++;
      return statuses;
    },
    take: (): number => {
      const mean = total / Math.max(1, count);
      total = 0;
      count = 0;
      return mean;
    },
  };
}

/** Every node certified in the same epoch, the one it is in, with no decision for another under way. */
const settled = (statuses: readonly (NodeStatus | null)[]): boolean => {
  const epoch = statuses[0]?.epoch;
  return statuses.every(
    (s) => s !== null && s.epoch === epoch && s.certificate?.epoch === epoch && s.decision === null,
  );
};

/**
 * The first n-member certificate of an epoch after `after`, at the reference prices, that every
 * node has held (as commonCertificate). A node's status carries the prices of its current
 * certificate only: its other certified epochs do not count here (a slot's network does not move
 * on by itself, so the current one is the slot's).
 */
function atPrices(n: number, after: number, prices: readonly number[]) {
  const gaps = new Map<string, number>();
  const common = commonCertificate(n, (s) => {
    const current = s.certificate;
    if (!current || current.epoch <= after) return [];
    const gap = priceGap(Object.values(current.prices), prices);
    if (gap > AT_REFERENCE) return [];
    gaps.set(current.digest, gap);
    return s.certified.filter((c) => c.digest === current.digest);
  });
  return { ...common, priceGap: () => gaps.get(common.found()?.digest ?? "") ?? Number.NaN };
}

function perNode(
  before: Snapshot,
  end: Snapshot,
  n: number,
): Pick<SlotRun, "messagesPerNode" | "syncRequestsPerNode" | "cpuMs" | "accepted"> {
  return {
    messagesPerNode: (end.accepted + end.published - before.accepted - before.published) / n,
    syncRequestsPerNode: (syncSent(end) - syncSent(before)) / n,
    cpuMs: end.cpuMs - before.cpuMs,
    accepted: end.accepted - before.accepted,
  };
}

const lastPrices = (status: NodeStatus): number[] => Object.values(status.certificate?.prices ?? {});

/** The reference solver's equilibrium prices of the market with these bids (node i runs bids[i]). */
function equilibrium(market: BenchMarket, ids: readonly string[], bids: readonly AgentProfile[]): number[] {
  const scenario = scenarioSchema.parse({
    contract: market.contract,
    agents: bids.map((bid, i) => ({ id: ids[i], ...bid })),
  });
  return solveReference(scenario).prices;
}

/**
 * New bids for a tenth of the members, drawn until the equilibrium moves visibly from the last
 * certified prices (otherwise the old certificate would already pass for the new one).
 */
function newBids(
  prng: Prng,
  bids: readonly AgentProfile[],
  last: readonly number[],
  solve: (bids: readonly AgentProfile[]) => number[],
): { bids: AgentProfile[]; changed: number[]; prices: number[] } {
  const k = Math.max(1, Math.round(bids.length * REBID_SHARE));
  for (;;) {
    const changed = new Set<number>();
    while (changed.size < k) changed.add(Math.floor(prng() * bids.length));
    const next = bids.map((bid, i) =>
      changed.has(i) ? { ...bid, valuation: scaled(bid.valuation, factor(prng)) } : bid,
    );
    const prices = solve(next);
    if (priceGap(last, prices) > MOVES_PRICE) return { bids: next, changed: [...changed], prices };
  }
}

/** 0.7–0.9 or 1.1–1.3: a bid that changes by 10–30%, up or down. */
const factor = (prng: Prng): number => (prng() < 0.5 ? uniform(prng, 0.7, 0.9) : uniform(prng, 1.1, 1.3));

/** The valuation worth `f` times as much (every kind scales linearly in its weight). */
function scaled(v: Valuation, f: number): Valuation {
  switch (v.kind) {
    case "log":
      return { ...v, alpha: v.alpha * f };
    case "quadratic":
      return { ...v, a: v.a * f, b: v.b * f };
    case "power":
      return { ...v, w: v.w * f };
  }
}
