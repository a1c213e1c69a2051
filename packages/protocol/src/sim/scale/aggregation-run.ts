import { bestResponse } from "../../economics/best-response.ts";
import type { ReportedDemand } from "../../economics/demand.ts";
import { initialPriceRuleState, stepPrices } from "../../economics/price-rule.ts";
import { createPrng } from "../../random/prng.ts";
import { createSigner, type Signer } from "../../wire/agent-key.ts";
import { quorumSize } from "../../wire/certificate.ts";
import { contractId, type NewtonModel } from "../../wire/contract.ts";
import { sha256Hex } from "../../wire/hash.ts";
import { type AgentId, compareIds } from "../../wire/ids.ts";
import { type DemandMessage, PROTOCOL_VERSION } from "../../wire/messages.ts";
import { signMessage } from "../../wire/signing.ts";
import { aggregationTraffic } from "./aggregation-traffic.ts";
import { DEFAULT_FRAMING_BYTES, DEFAULT_LATENCY } from "./scale-run.ts";
import { scaleScenario } from "./scale-scenario.ts";

/**
 * The committee aggregation of docs/scaling.md §2, run as a timing model with the real economics:
 * how long a market of n agents takes from its epoch's decision to a certificate when demands stay
 * in committees and every node prices from the committees' aggregates.
 *
 * Economics: each round every member's demand is the real best response (from its previous x, as
 * the machine's market computes it) and the prices are the real price rule's step on all n demands
 * in canonical order — the full-information protocol's price sequence, bit for bit. By default the
 * rule is newton with its sums model (economics/sums-model.ts), whose step needs only S and H
 * summed over members, which is what committee aggregates carry (§2.4). Not modelled: summing per
 * committee, then over committees, is as deterministic as the canonical order but not the same bits;
 * and the first trust region's median member scale would be a median of committee medians. The
 * hinge model (`model: "hinges"`) needs every member's kink along the step, which aggregates do not
 * carry.
 *
 * Flow and cost, per round, under the same WAN model as the scale runs (scale-run.ts): every message
 * reaches each recipient after a delay uniform in [min, max] (one hop), and each node handles its
 * inbound messages one at a time in arrival order at `cpuPerMessageMs` each.
 * 1. A member publishes its demand on its committee's subnet once it knows the round's prices.
 * 2. Each of the committee's k aggregators, once it has handled its committee's demands, builds
 *    and signs the aggregate (one message's cost) and publishes it on the global topic.
 * 3. Every node handles every aggregate (C·k) and knows the next prices once it has handled one
 *    aggregate from every committee (honest aggregators of one committee produce identical sums).
 * After the round that converges, members publish digest-only commits on their subnets (§2.7);
 * aggregators bundle their committee's commit signatures on the global topic; a node verifies the
 * first bundle of each committee (one signature check per member in it: Ed25519 does not
 * aggregate) and drops the others as duplicates (one message's cost), and holds a certificate once
 * the bundles it verified cover a quorum of the members.
 *
 * Not modelled: faults (a committee with a silent member is stuck as a round is today), membership
 * (the run starts at the epoch's decision, known to all), gossip beyond a count of hops (`hops`),
 * and a node's messages of the next round arriving while it still handles this round's (a node
 * handles each round's arrivals in one sweep, in order; an aggregator's publication time is
 * iterated to agree with its sweep).
 */
export interface AggregationRunOptions {
  readonly agents: number;
  readonly seed?: number;
  readonly cpuPerMessageMs: number;
  readonly latencyMs?: { readonly min: number; readonly max: number };
  readonly framingBytes?: number;
  /** Members per committee (the design's ~128). */
  readonly committeeSize?: number;
  /** Aggregators per committee and round (the design's k = 4). */
  readonly aggregators?: number;
  /** The agents' ids in start order; default: keys drawn from the seed. Only their order matters to the prices. */
  readonly ids?: readonly AgentId[];
  /**
   * Gossip hops. "one" (default): every message reaches each recipient in one delay, as the scale
   * runs model full information. "mesh": a topic of m nodes takes ⌈log₇ m⌉ hops (gossipsub's D = 8
   * less the link it came in on), each a delay of its own plus one message's CPU at the forwarder.
   */
  readonly hops?: "one" | "mesh";
  /**
   * The newton rule's model. Default sums: the step from S and H alone, which committee aggregates
   * carry. hinges needs every member's kink along the step, which they do not (docs/scaling.md §3).
   */
  readonly model?: NewtonModel;
}

export interface AggregationRunResult {
  readonly agents: number;
  readonly committees: number;
  readonly committeeSize: number;
  /** Each committee's members: hash ranges are only near-equal. */
  readonly committeeSizes: readonly number[];
  readonly aggregators: number;
  readonly cpuPerMessageMs: number;
  /** Gossip hops of a committee subnet's message and of the global topic's. */
  readonly hops: readonly [number, number];
  /** Rounds run, the converged one included. */
  readonly rounds: number;
  readonly converged: boolean;
  /** The prices the epoch settles on. */
  readonly prices: readonly number[];
  /** Virtual ms from the epoch's decision until the last node knew each round's sums. */
  readonly roundsDoneMs: readonly number[];
  /** Virtual ms until the last node had settled (knew the converged round's sums). */
  readonly settledAtMs: number;
  /** Virtual ms until the last node held a certificate. */
  readonly certifiedAtMs: number;
  /** Per node per round, the price rounds only: messages handled, bytes received, CPU ms. */
  readonly perRound: { readonly messages: number; readonly bytes: number; readonly cpuMs: number };
  /** Per node, the commit exchange: messages handled, bytes received, CPU ms. */
  readonly commitPhase: { readonly messages: number; readonly bytes: number; readonly cpuMs: number };
  readonly demandBytes: number;
  readonly aggregateBytes: number;
  readonly bundleBytes: number;
  /** A member's Merkle-sum inclusion proof for its committee's aggregate (§2.5), encoded. */
  readonly proofBytes: number;
}

/** A digest-only commit (§2.7): header, epoch, round, the body's digest, agent, signature. */
const COMMIT_BYTES = 250;
/** Per signature in a bundle: the signer's index and its base64 signature. */
const BUNDLE_SIGNATURE_BYTES = 96;

export function runAggregation(options: AggregationRunOptions): AggregationRunResult {
  const n = options.agents;
  const seed = options.seed ?? 1;
  const cost = options.cpuPerMessageMs;
  const delay = options.latencyMs ?? DEFAULT_LATENCY;
  const framing = options.framingBytes ?? DEFAULT_FRAMING_BYTES;
  const size = Math.min(options.committeeSize ?? 128, n);
  const k = Math.min(options.aggregators ?? 4, size);
  const { contract, profiles } = scaleScenario(n, seed, cost, options.model ?? "sums");
  const R = contract.resources.length;

  const signers = options.ids ? null : drawSigners(n, seed);
  const ids = options.ids ?? (signers as Signer[]).map((s) => s.id);
  const committeeOf = assignCommittees(ids, size);
  const C = committeeOf.members.length;
  const hop = delayModel(seed, delay);
  const meshHops = (members: number) => Math.max(1, Math.ceil(Math.log(members) / Math.log(7) - 1e-9));
  // kind 0: a committee subnet's message; 1: the global topic's.
  const hopsOf = options.hops === "mesh" ? [meshHops(size), meshHops(n)] : [1, 1];
  const delayOf: DelayModel = (tag, from, to, kind) => {
    const hops = hopsOf[kind] as number;
    let t = (hops - 1) * cost;
    for (let h = 0; h < hops; h++) t += hop(tag, from, to, kind + 2 * h);
    return t;
  };

  // Economics: the full-information price sequence.
  let prices = new Array<number>(R).fill(0);
  let ruleState = initialPriceRuleState(contract);
  const lastX = new Array<number | undefined>(n).fill(undefined);
  let firstRound: ReportedDemand[] = [];
  let converged = false;
  let rounds = 0;
  for (;;) {
    const demands: ReportedDemand[] = profiles.map((profile, i) => {
      const d = bestResponse(profile, contract, prices, lastX[i]);
      lastX[i] = d.x;
      return { agent: ids[i] as AgentId, x: d.x, slope: d.slope, footprint: profile.footprint };
    });
    if (rounds === 0) firstRound = demands;
    const step = stepPrices(contract, ruleState, prices, demands);
    rounds += 1;
    if (step.converged || step.stall !== null) {
      converged = step.converged;
      break;
    }
    prices = step.prices;
    ruleState = step.state;
  }

  // Timing: every node knows the epoch (and round 0's prices) one delay after the decision.
  let ready: Float64Array = Float64Array.from({ length: n }, (_, i) => (i === 0 ? 0 : delayOf(0, -1, i, 1)));
  let busy: Float64Array = new Float64Array(n);
  const roundsDoneMs: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const aggregators = chooseAggregators(committeeOf.members, ids, round, k);
    const done = sweepRound(round + 1, ready, busy, committeeOf, aggregators, delayOf, cost, () => cost);
    ready = done.ready;
    busy = done.busy;
    roundsDoneMs.push(max(ready));
  }
  const settledAtMs = max(ready);

  // Commits and their bundles: the same flow, a bundle's first copy verified signature by signature.
  const bundlers = chooseAggregators(committeeOf.members, ids, rounds, k);
  const quorum = quorumSize(contract, n);
  const commits = sweepRound(
    rounds + 1,
    ready,
    busy,
    committeeOf,
    bundlers,
    delayOf,
    cost,
    (committee) => cost * (committeeOf.members[committee] as number[]).length,
    quorum,
  );
  const certifiedAtMs = max(commits.ready);

  const traffic = aggregationTraffic({
    agents: n,
    committeeSize: size,
    aggregators: k,
    framingBytes: framing,
    demands: sampleDemands(firstRound.slice(0, size), contractId(contract), signers, seed),
    signer: (signers ?? drawSigners(1, seed))[0] as Signer,
  });
  const ownCommittee = n / C;
  const roundMessages = ownCommittee - 1 + C * k;
  const bundleBytes = Math.round(200 + ownCommittee * BUNDLE_SIGNATURE_BYTES + framing);
  return {
    agents: n,
    committees: C,
    committeeSize: size,
    committeeSizes: committeeOf.members.map((m) => m.length),
    aggregators: k,
    cpuPerMessageMs: cost,
    hops: [hopsOf[0] as number, hopsOf[1] as number],
    rounds,
    converged,
    prices,
    roundsDoneMs,
    settledAtMs,
    certifiedAtMs,
    perRound: {
      messages: roundMessages,
      bytes: (ownCommittee - 1) * traffic.demandBytes + C * k * traffic.aggregateBytes,
      cpuMs: roundMessages * cost,
    },
    commitPhase: {
      messages: ownCommittee - 1 + C * k,
      bytes: (ownCommittee - 1) * (COMMIT_BYTES + framing) + C * k * bundleBytes,
      cpuMs: (ownCommittee - 1 + C * (k - 1) + n) * cost,
    },
    demandBytes: traffic.demandBytes,
    aggregateBytes: traffic.aggregateBytes,
    bundleBytes,
    proofBytes: traffic.proofBytes,
  };
}

interface Committees {
  /** Per committee, its members' indices in id order. */
  readonly members: number[][];
  /** Per agent, its committee. */
  readonly of: Int32Array;
}

/**
 * §2.1: committee c of C = ⌈n/size⌉ holds the members whose sha256(epoch ‖ id) falls in the c-th of
 * C equal ranges (epoch 0 here). Ranges of a hash are only near-equal in size; a committee's size
 * varies around n/C.
 */
function assignCommittees(ids: readonly AgentId[], size: number): Committees {
  const C = Math.ceil(ids.length / size);
  const members: number[][] = Array.from({ length: C }, () => []);
  const of = new Int32Array(ids.length);
  const order = ids.map((id, i) => [id, i] as const).sort((a, b) => compareIds(a[0], b[0]));
  for (const [id, i] of order) {
    const c = Math.min(C - 1, Math.floor(hashFraction(`0\n${id}`) * C));
    (members[c] as number[]).push(i);
    of[i] = c;
  }
  return { members, of };
}

/** §2.3: a committee's k members with the lowest sha256(epoch ‖ round ‖ id) aggregate the round. */
function chooseAggregators(
  members: number[][],
  ids: readonly AgentId[],
  round: number,
  k: number,
): number[][] {
  return members.map((m) =>
    m
      .map((i) => [hashFraction(`0\n${round}\n${ids[i]}`), i] as const)
      .sort((a, b) => a[0] - b[0])
      .slice(0, k)
      .map(([, i]) => i),
  );
}

interface RoundDone {
  /** Per node, when it knew the round's outcome (the next prices; for commits, a certificate). */
  readonly ready: Float64Array;
  /** Per node, when its CPU was free after handling every message of the round. */
  readonly busy: Float64Array;
}

/**
 * One exchange: members publish to their committee at `ready`, aggregators publish one message each
 * once they handled their committee's, every node handles all of them. A node is done when it has
 * handled a first message from every committee (with `quorum`, from committees covering that many
 * members). `firstCost(c)` is the cost of handling committee c's first aggregate, duplicates cost
 * `cost`. The aggregators' publication times and the sweeps are iterated to agree.
 */
function sweepRound(
  tag: number,
  ready: Float64Array,
  busy: Float64Array,
  committees: Committees,
  aggregators: number[][],
  delayOf: DelayModel,
  cost: number,
  firstCost: (committee: number) => number,
  quorum?: number,
): RoundDone {
  const n = ready.length;
  const C = committees.members.length;
  const aggs: { node: number; committee: number }[] = [];
  aggregators.forEach((list, c) => {
    for (const a of list) aggs.push({ node: a, committee: c });
  });
  const isAgg = new Map<number, number>(aggs.map((a, j) => [a.node, j]));
  // First pass: an aggregator's committee alone; later passes: its full sweep's time for them.
  const published = new Float64Array(aggs.length);
  aggs.forEach((a, j) => {
    let free = busy[a.node] as number;
    for (const t of committeeArrivals(a.node, tag, ready, committees, delayOf).sort((x, y) => x - y))
      free = Math.max(free, t) + cost;
    published[j] = Math.max(free, ready[a.node] as number) + cost;
  });
  let out: RoundDone = { ready: new Float64Array(n), busy: new Float64Array(n) };
  for (let pass = 0; pass < 3; pass++) {
    const nextReady = new Float64Array(n);
    const nextBusy = new Float64Array(n);
    const committeeDone = new Float64Array(aggs.length);
    for (let j = 0; j < n; j++) {
      const own = committeeArrivals(j, tag, ready, committees, delayOf);
      const events: { at: number; agg: number }[] = own.map((at) => ({ at, agg: -1 }));
      aggs.forEach((a, x) => {
        if (a.node !== j) events.push({ at: (published[x] as number) + delayOf(tag, a.node, j, 1), agg: x });
      });
      events.sort((a, b) => a.at - b.at);
      let free = busy[j] as number;
      let lastOwn = ready[j] as number;
      const first = new Float64Array(C).fill(Number.NaN);
      const self = isAgg.get(j);
      if (self !== undefined)
        first[(aggs[self] as { committee: number }).committee] = Number.POSITIVE_INFINITY;
      for (const e of events) {
        const start = Math.max(free, e.at);
        if (e.agg < 0) {
          free = start + cost;
          lastOwn = free;
          continue;
        }
        const c = (aggs[e.agg] as { committee: number }).committee;
        const isFirst = Number.isNaN(first[c] as number);
        free = start + (isFirst ? firstCost(c) : cost);
        if (isFirst) first[c] = free;
      }
      if (self !== undefined) {
        const c = (aggs[self] as { committee: number }).committee;
        committeeDone[self] = Math.max(lastOwn, ready[j] as number) + cost;
        first[c] = committeeDone[self] as number;
      }
      nextReady[j] = doneAt(first, committees.members, quorum);
      nextBusy[j] = free;
    }
    out = { ready: nextReady, busy: nextBusy };
    let moved = false;
    for (let x = 0; x < aggs.length; x++)
      if (committeeDone[x] !== published[x]) {
        moved = true;
        published[x] = committeeDone[x] as number;
      }
    if (!moved) break;
  }
  return out;
}

/** When the committees' first messages handled cover every committee, or `quorum` members. */
function doneAt(first: Float64Array, members: number[][], quorum?: number): number {
  if (quorum === undefined) return max(first);
  const order = [...first.keys()].sort((a, b) => (first[a] as number) - (first[b] as number));
  let covered = 0;
  for (const c of order) {
    covered += (members[c] as number[]).length;
    if (covered >= quorum) return first[c] as number;
  }
  return max(first);
}

/** When node j receives each other member of its committee's message of exchange `tag`. */
function committeeArrivals(
  j: number,
  tag: number,
  ready: Float64Array,
  committees: Committees,
  delayOf: DelayModel,
): number[] {
  const out: number[] = [];
  for (const i of committees.members[committees.of[j] as number] as number[])
    if (i !== j) out.push((ready[i] as number) + delayOf(tag, i, j, 0));
  return out;
}

type DelayModel = (tag: number, from: number, to: number, kind: number) => number;

/**
 * A delay per (exchange, sender, recipient, kind), uniform in [min, max]: a hash of the four and the
 * seed, so that a pass over the same exchange sees the same delays and the run replays exactly.
 */
function delayModel(seed: number, delay: { readonly min: number; readonly max: number }): DelayModel {
  return (tag, from, to, kind) => {
    let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ tag;
    h = Math.imul(h ^ (h >>> 16), 0x7feb352d) ^ (from + 1);
    h = Math.imul(h ^ (h >>> 15), 0x846ca68b) ^ to;
    h = Math.imul(h ^ (h >>> 16), 0x7feb352d) ^ kind;
    h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
    h ^= h >>> 16;
    return delay.min + ((h >>> 0) / 2 ** 32) * (delay.max - delay.min);
  };
}

function hashFraction(text: string): number {
  return Number.parseInt(sha256Hex(new TextEncoder().encode(text)).slice(0, 12), 16) / 2 ** 48;
}

function drawSigners(n: number, seed: number): Signer[] {
  const prng = createPrng(seed ^ 0x5ca1e);
  return Array.from({ length: n }, () => {
    const key = new Uint8Array(32);
    for (let i = 0; i < 32; i++) key[i] = Math.floor(prng() * 256);
    return createSigner(key);
  });
}

/** Round 0's demands of one committee as signed messages, to size a demand and an aggregate by. */
function sampleDemands(
  demands: readonly ReportedDemand[],
  contract: ReturnType<typeof contractId>,
  signers: readonly Signer[] | null,
  seed: number,
): DemandMessage[] {
  // Given ids without their keys, each demand is signed as a drawn key's own: the size is the same.
  const keys = signers ?? drawSigners(demands.length, seed);
  return demands.map((d, i) =>
    signMessage<DemandMessage>(
      {
        v: PROTOCOL_VERSION,
        kind: "demand",
        contract,
        agent: (keys[i] as Signer).id,
        epoch: 0,
        round: 0,
        prices: d.footprint.map(() => 0),
        x: d.x,
        slope: d.slope,
        footprint: [...d.footprint],
      },
      keys[i] as Signer,
    ),
  );
}

function max(values: ArrayLike<number>): number {
  let m = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) m = Math.max(m, values[i] as number);
  return m;
}
