import { commonCertificate, fetchNodeCertificate, fetchNodeStatus } from "@walras/node";
import {
  type AgentProfile,
  type BidAt,
  bestResponse,
  type CommitBody,
  type Contract,
  contractId,
  type LedgerEntry,
  type SlotMarket,
  slotTerms,
  type TermsChange,
} from "@walras/protocol";
import { readApiToken } from "../../api-token.ts";
import { FailureError } from "../../cli-error.ts";
import {
  approveAmendment,
  fetchAmendments,
  fetchLedger,
  proposeAmendment,
  putProfile,
} from "../../market-api-client.ts";

import type { Devnet, DevnetNode } from "../devnet/start-devnet.ts";

const POLL_MS = 100;

/** What a live run leaves to measure: the ledger up to its last slot, and who bid what when. */
export interface LiveRecord {
  readonly entries: readonly LedgerEntry[];
  readonly bidAt: BidAt;
  /** The epoch whose certificate ended each schedule slot (earlier epochs were on the way to it). */
  readonly scheduleEpochs: readonly number[];
  /** Peer id -> the schedule's agent id (a1, a2, ...), for people. */
  readonly labels: ReadonlyMap<string, string>;
}

/**
 * Drives a running devnet through a shock schedule, one slot boundary at a time, as the network's
 * own operators would: once every running node holds the certificate of slot k, the boundary to
 * slot k + 1 is made of
 *   - new bids (the schedule's drift) through each node's PUT /agent, which take effect at the next
 *     slot; the contract's `period` opens it, so that every bid changes at one boundary (without a
 *     period each new bid would open a slot of its own);
 *   - new terms (a fee or capacity shock) as an amendment proposed by one member and approved by
 *     a quorum, which opens the next slot as soon as it passes;
 *   - churn as node processes stopped (SIGTERM: a graceful leave) and started (a join).
 * Then it waits for the certificate that names the running nodes under the expected terms. An
 * extra slot on the way (a leave and a join decided apart) is certified and kept: the measurement
 * reads every certificate of the ledger, with the terms and members it names.
 */
export async function driveSchedule(
  devnet: Devnet,
  schedule: readonly SlotMarket[],
  options: { readonly slotTimeoutMs: number; readonly say: (line: string) => void },
): Promise<LiveRecord> {
  const labels = new Map(devnet.nodes.map((n) => [n.peerId, n.label]));
  const bids = new Map<string, BidChange[]>(
    devnet.nodes.map((n) => [n.peerId, [{ from: 0, maybe: null, profile: n.profile }]]),
  );
  let died: string | null = null;
  void devnet.unexpectedExit.then(({ node, code, signal }) => {
    died = `node ${node.label} exited (${signal ?? `code ${code}`}); its log: ${node.logFile}`;
  });
  let terms = devnet.contract;
  const certified = (after: number, what: string) =>
    waitForSlot(devnet, after, contractId(terms), Date.now() + options.slotTimeoutMs, what, () => died);

  let epoch = await certified(-1, "slot 0");
  const scheduleEpochs = [epoch];
  options.say(`slot 0: epoch ${epoch} certified, ${devnet.nodes.length} members`);
  for (const market of schedule.slice(1)) {
    const before = schedule[market.slot - 1] as SlotMarket;
    const what: string[] = [];
    const moved = await rebid(devnet, market, before);
    for (const { node, from, maybe } of moved)
      bids.get(node.peerId)?.push({ from, maybe, profile: profileOf(market, node.label) });
    if (moved.length > 0) what.push(`${moved.length} new bids`);
    const change = termsChange(market, before, terms);
    if (change) {
      terms = await amend(devnet, change);
      what.push(`amendment ${describeChange(change)} passed`);
    }
    // Together, so that the boundary's leaves and joins fall in as few slots as they can.
    const joining = market.joined.map((id) => {
      const agent = market.scenario.agents.find((a) => a.id === id);
      if (!agent) throw new FailureError(`slot ${market.slot}: the schedule has no agent ${id}`);
      return agent;
    });
    const [, joined] = await Promise.all([
      Promise.all(market.left.map((id) => devnet.stopNode(id))),
      Promise.all(joining.map((agent) => devnet.addNode(agent))),
    ]);
    for (const node of joined) {
      labels.set(node.peerId, node.label);
      bids.set(node.peerId, [{ from: 0, maybe: null, profile: node.profile }]);
    }
    what.push(...market.left.map((id) => `${id} left`), ...market.joined.map((id) => `${id} joined`));
    epoch = await certified(epoch, `slot ${market.slot}`);
    scheduleEpochs.push(epoch);
    options.say(
      `slot ${market.slot}: epoch ${epoch} certified, ${devnet.nodes.length} members${what.length > 0 ? ` (${what.join(", ")})` : ""}`,
    );
  }
  const entries = upToEpoch(await longestLedger(devnet.nodes), epoch);
  const last = entries.at(-1);
  if (last?.type !== "certificate" || last.certificate.commit.epoch !== epoch)
    throw new FailureError(`no running node's ledger holds the last slot's certificate (epoch ${epoch})`);
  return {
    entries,
    scheduleEpochs,
    bidAt: (peer, commit, terms) => bidIn(bids.get(peer) ?? [], peer, commit, terms),
    labels,
  };
}

/** A bid a node was given: surely in force from epoch `from`, perhaps already in epoch `maybe`. */
interface BidChange {
  readonly from: number;
  readonly maybe: number | null;
  readonly profile: AgentProfile;
}

/**
 * The bid a member ran in a certified epoch. Where a slot began while the new bid was being sent,
 * either bid may have been the one: the one whose best response at the certified prices is the
 * member's certified allocation.
 */
function bidIn(
  changes: readonly BidChange[],
  peer: string,
  commit: CommitBody,
  terms: Contract,
): AgentProfile | undefined {
  const i = changes.findLastIndex((c) => c.from <= commit.epoch);
  const sure = changes[i];
  const next = changes[i + 1];
  if (!sure || next?.maybe !== commit.epoch) return sure?.profile;
  const x = commit.allocations.find((a) => a.agent === peer)?.x ?? 0;
  const miss = (p: AgentProfile) => Math.abs(bestResponse(p, terms, commit.prices).x - x);
  return miss(next.profile) < miss(sure.profile) ? next.profile : sure.profile;
}

function profileOf(market: SlotMarket, label: string): AgentProfile {
  const agent = market.scenario.agents.find((a) => a.id === label);
  if (!agent) throw new FailureError(`slot ${market.slot}: the schedule has no agent ${label}`);
  const { id: _id, ...profile } = agent;
  return profile;
}

/**
 * PUT /agent on every running node whose agent's bid the schedule changed. A node answers an epoch
 * with the bid it held when it began that epoch, so the new bid is in force after the epoch the
 * node is in when the PUT lands: its epoch is read just before and just after; a slot that began
 * in between may have either bid (bidIn tells them apart). Returns the nodes moved, with when.
 */
async function rebid(
  devnet: Devnet,
  market: SlotMarket,
  before: SlotMarket,
): Promise<({ node: DevnetNode } & Omit<BidChange, "profile">)[]> {
  const was = new Map(before.scenario.agents.map((a) => [a.id, JSON.stringify(a)]));
  const moved = devnet.nodes.filter((n) => {
    const now = market.scenario.agents.find((a) => a.id === n.label);
    return now !== undefined && was.has(n.label) && was.get(n.label) !== JSON.stringify(now);
  });
  const epochOf = async (n: DevnetNode) => (await fetchNodeStatus(n.httpUrl, 5_000)).epoch ?? -1;
  return Promise.all(
    moved.map(async (node) => {
      const first = await epochOf(node);
      await putProfile(node.httpUrl, readApiToken({ dataDir: node.dataDir }), profileOf(market, node.label));
      const then = await epochOf(node);
      return then === first ? { node, from: first + 1, maybe: null } : { node, from: then + 1, maybe: then };
    }),
  );
}

function termsChange(market: SlotMarket, before: SlotMarket, inEffect: Contract): TermsChange | null {
  const now = slotTerms(market.scenario);
  const was = slotTerms(before.scenario);
  const capacityMoved = now.capacities.some((m, i) => m !== was.capacities[i]);
  const change: TermsChange = {
    ...(capacityMoved
      ? {
          capacities: Object.fromEntries(
            inEffect.resources.map((r, i) => [r.id, now.capacities[i] as number]),
          ),
        }
      : {}),
    ...(now.perUnit !== was.perUnit ? { perUnit: now.perUnit } : {}),
    ...(now.fixed !== was.fixed ? { fixed: now.fixed } : {}),
  };
  return Object.keys(change).length === 0 ? null : change;
}

function describeChange(c: TermsChange): string {
  return [
    ...Object.entries(c.capacities ?? {}).map(([id, m]) => `${id} = ${m}`),
    ...(c.perUnit !== undefined ? [`tau = ${c.perUnit}`] : []),
    ...(c.fixed !== undefined ? [`g = ${c.fixed}`] : []),
  ].join(", ");
}

/**
 * The first running node proposes the new terms (its signature counts), and others approve, each
 * once gossip has brought it the proposal, until the quorum the proposer reports is reached.
 */
async function amend(devnet: Devnet, change: TermsChange): Promise<Contract> {
  const [proposer, ...others] = devnet.nodes;
  if (!proposer) throw new FailureError("no node is running to propose the amendment");
  const token = (n: DevnetNode) => readApiToken({ dataDir: n.dataDir });
  const { id, terms } = await proposeAmendment(proposer.httpUrl, token(proposer), change);
  const view = (await fetchAmendments(proposer.httpUrl)).amendments.find((a) => a.id === id);
  const needed = view?.needed ?? devnet.nodes.length;
  for (const n of others.slice(0, Math.max(0, needed - 1))) {
    await until(
      async () => (await fetchAmendments(n.httpUrl)).amendments.some((a) => a.id === id),
      Date.now() + 10_000,
      `${n.label} did not learn of amendment ${id} within 10 s`,
    );
    await approveAmendment(n.httpUrl, token(n), id);
  }
  return terms;
}

/**
 * Waits until every running node holds one certificate of an epoch after `after` naming exactly
 * the running nodes, under the terms `termsId`; returns its epoch.
 */
async function waitForSlot(
  devnet: Devnet,
  after: number,
  termsId: string,
  deadline: number,
  what: string,
  died: () => string | null,
): Promise<number> {
  let found = -1;
  let checked = after;
  await until(
    async () => {
      const dead = died();
      if (dead) throw new FailureError(`${what}: ${dead}`);
      const statuses = await Promise.all(
        devnet.nodes.map((n) => fetchNodeStatus(n.httpUrl, 2_000).catch(() => null)),
      );
      const cert = commonCertificate(
        statuses,
        devnet.nodes.map((n) => n.peerId),
      );
      if (!cert || cert.epoch <= checked) return false;
      checked = cert.epoch;
      const full = await fetchNodeCertificate(devnet.nodes[0]?.httpUrl as string);
      if (full?.commit.epoch !== cert.epoch) {
        checked = after;
        return false;
      }
      if ((full.commit.terms ?? contractId(devnet.contract)) !== termsId) return false;
      found = cert.epoch;
      return true;
    },
    deadline,
    `${what}: no certificate of the running nodes under the expected terms in time (--timeout)`,
  );
  return found;
}

async function until(check: () => Promise<boolean>, deadline: number, failure: string): Promise<void> {
  while (!(await check())) {
    if (Date.now() > deadline) throw new FailureError(failure);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** The ledger of the running node that holds the most of it (a late joiner may still be catching up). */
async function longestLedger(nodes: readonly DevnetNode[]): Promise<LedgerEntry[]> {
  let best: LedgerEntry[] = [];
  for (const n of nodes) {
    const { entries } = await fetchLedger(n.httpUrl);
    if (entries.length > best.length) best = entries;
  }
  return best;
}

/** The entries up to the certificate of `epoch` (slots opened after the run's last are not its). */
function upToEpoch(entries: readonly LedgerEntry[], epoch: number): LedgerEntry[] {
  const last = entries.findLastIndex((e) => e.type === "certificate" && e.certificate.commit.epoch <= epoch);
  return entries.slice(0, last + 1);
}
