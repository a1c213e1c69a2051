import { joinerAnnounceMs, silenceMs } from "../machine/heartbeat.ts";
import type { AgentId } from "../wire/ids.ts";
import { survivors } from "./fault-model.ts";
import { lastChange, maxDelay, type Schedule } from "./schedule.ts";
import type { SimNode } from "./simulated-network.ts";

/**
 * The liveness promise the simulator checks: once the last fault is over (partitions healed,
 * crashed agents restarted or gone for good, joins and leaves done), every live agent holds a
 * certificate for an epoch whose members are exactly the live agents, within `livenessBound`.
 */

/** Rounds a newton market needs, with room (it takes 5-15). */
export const EXACT_ROUNDS = 20;
/** Rounds without improvement after which an epoch settles approximate (the machine's stall rule). */
export const STALL_ROUNDS = 50;
/**
 * Epoch changes allowed after the last fault: a restarted or dropped agent re-joins, one more, and
 * the slot that promotes the new members to voters once their epoch is certified (§9.1).
 */
export const EPOCH_CHANGES = 3;

/**
 * The bound, in virtual ms after the last change, with D the longest a message takes (latency +
 * jitter + the slowest member's delay) and the contract's roundMs and announceMs:
 *
 *   EPOCH_CHANGES × (membership + market) + commit, where
 *   membership = 2·roundMs + silenceMs(agents) + 2·joinerAnnounceMs(agents) + 6·D
 *     silence is noticed after silenceMs (roundMs, or ten heartbeats when longer), a joiner
 *     that does not echo is left out for 2·roundMs, a joiner re-announces at least every
 *     joinerAnnounceMs (roundMs/2, or a heartbeat of all agents) and a proposal settles in a few
 *     message delays;
 *   market = rounds × (roundMs/2 + 3·D)
 *     rounds = EXACT_ROUNDS, plus STALL_ROUNDS with a fixed fee (no exact clearing price); a
 *     round closes in one delay, or, when a demand was lost, after the sync at roundMs/2 and its
 *     reply (2·D). A `messages` request lost too is noticed only at the client's timeout for it
 *     (min(3 s, max(1 s, roundMs)), machine/sync-timeout.ts; up to 1.5 times that where
 *     answers come late, machine/sync-request-timer.ts) and asked again at the next roundMs/2,
 *     about a round more; the bound does not add that per round: under high loss it
 *     happens in about half the rounds, and EPOCH_CHANGES' spare epochs absorb it. That is
 *     tight where rounds are many and loss high. Seed 18524 (a fixed fee, 40 rounds to the stall rule, roundMs 2 s,
 *     30% loss) budgets 1.03 s a round; its rounds took 3.0 s on average (up to 8.8 s) at a
 *     fixed 3 s timeout, 2.2 s (up to 5.0 s) at roundMs, and its slack rose from 6.0 s (the
 *     least of 20,000 seeds at a fixed 3 s) to 203.3 s; over seeds 1-3,000 the smallest slack
 *     rose from 80.4 s (seed 2526) to 92.3 s (seed 1205);
 *   commit = roundMs/2 + 3·D   (a lost commit is fetched by the sync at roundMs/2).
 * In a starved network (schedule.ts `drawStarved`), whose sync answers come up to S late, a
 * round's catch-up and a joiner's ask for the decision take S more: S is added to the membership
 * and per-round terms.
 */
export function livenessBound(schedule: Schedule): number {
  const t = schedule.contract.timeouts;
  const { roundMs } = t;
  const n = schedule.agents.length;
  const d = maxDelay(schedule);
  const rounds = EXACT_ROUNDS + (schedule.contract.fees.fixed > 0 ? STALL_ROUNDS : 0);
  // A starved network's sync answers come up to `serve` later: a round's catch-up, a joiner's ask
  // for the decision.
  const serve = schedule.network.syncServeMs ?? 0;
  const membership = 2 * roundMs + silenceMs(t, n) + 2 * joinerAnnounceMs(t, n) + 6 * d + serve;
  const perRound = roundMs / 2 + 3 * d + serve;
  // As docs/protocol.md §9.6 states it: once per change still pending, since a new epoch restarts
  // the market (a fixed-fee market then runs to its stall rule again).
  return Math.ceil(EPOCH_CHANGES * (membership + rounds * perRound) + perRound);
}

/** When liveness must hold: the last change plus the bound. */
export function livenessDeadline(schedule: Schedule): number {
  return lastChange(schedule) + livenessBound(schedule);
}

/** The names of the agents that stay in the market. */
export function liveAgents(schedule: Schedule): string[] {
  return survivors(
    schedule.agents.map((a) => a.name),
    schedule.faults,
  );
}

/**
 * Whether every honest live node's latest certificate names every honest live agent and no agent
 * that is gone. `equivocators` (byzantine-member.ts) are live but not owed a place: the protocol
 * proposes one out once its proof spreads (docs/protocol.md §5.1), and need not if it never split
 * anyone, so a certificate may name it or not; it is not asked to hold one (it is never
 * re-admitted). The honest agents are listed once: the check runs after every certificate.
 */
export function livenessCheck(
  live: ReadonlySet<AgentId>,
  equivocators: ReadonlySet<AgentId> = new Set(),
): (nodes: readonly SimNode[]) => boolean {
  const honest = [...live].filter((id) => !equivocators.has(id));
  return (nodes) => {
    for (const node of nodes) {
      if (!node.id || !live.has(node.id) || equivocators.has(node.id)) continue;
      const members = node.machine.certificates().at(-1)?.commit.members as readonly AgentId[] | undefined;
      if (!members?.every((m) => live.has(m))) return false;
      const named = new Set(members);
      if (!honest.every((id) => named.has(id))) return false;
    }
    return true;
  };
}

/**
 * Why liveness cannot be asked for, or null when it can: a live node's epoch has lost the
 * majority of its voters for good, and no protocol that keeps one equilibrium per epoch may move
 * on without one. An equivocator (byzantine-member.ts) counts as lost: the honest majority that
 * excludes it (docs/protocol.md §11) is what is promised, and where it is the only voter it can
 * split each honest joiner it admits and then drop it as silent, forever (sim seed 180 with
 * `spread: true`).
 */
export function noMajority(
  nodes: readonly SimNode[],
  live: ReadonlySet<AgentId>,
  nameOf: (id: string) => string,
  equivocators: ReadonlySet<AgentId> = new Set(),
): string | null {
  // The next epoch is decided by the current one's voters (docs/protocol.md §9): without a live
  // majority of them nothing can change, for good. A graceful leave that could not be decided
  // (cut off from the others) is a loss like a crash. Two epochs are asked about: the newest any
  // node reached, crashed ones included (a live node that never learned it is still held up by
  // it), and the newest a live node knows (when only crashed nodes know the newer one, the live
  // ones can learn it from nobody and must move on from their own).
  const newestOf = (pool: readonly SimNode[]) => {
    let newest: { name: string; epoch: number; voters: readonly AgentId[] } | null = null;
    for (const node of pool) {
      const { voters, epoch } = node.machine.status();
      if (epoch !== null && (newest === null || epoch > newest.epoch))
        newest = { name: node.name, epoch, voters };
    }
    return newest;
  };
  const overall = newestOf(nodes);
  if (!overall) {
    // No first epoch yet: only a founder can decide one (docs/protocol.md §9.6), and all are gone.
    const founders = nodes.filter((n) => n.role === "founder");
    if (founders.length > 0 && founders.every((n) => !n.up && !(n.id && live.has(n.id))))
      return `no epoch was founded and every founder (${founders.map((n) => n.name).join(",")}) is gone for good`;
    return null;
  }
  const known = newestOf(nodes.filter((n) => n.up && n.id !== null && live.has(n.id)));
  // No live node knows any epoch, and every node that knows one is gone: there is nobody to learn
  // the market from, and nobody may found another (a founder that founded, then left).
  if (!known)
    return `no live node knows an epoch, and the nodes that know epoch ${overall.epoch} (${overall.name}) are gone`;
  for (const newest of known && known.epoch < overall.epoch ? [overall, known] : [overall]) {
    const alive = newest.voters.filter((m) => live.has(m) && !equivocators.has(m)).length;
    if (newest.voters.length > 0 && alive * 2 <= newest.voters.length)
      return `epoch ${newest.epoch} (as ${newest.name} knows it) has ${alive} of ${newest.voters.length} voters alive${equivocators.size > 0 ? " and honest" : ""} (${newest.voters.map(nameOf).join(",")})`;
  }
  return null;
}

/**
 * Whether `leaver`, going now (its `left`), goes once the epoch without it is held: another node
 * that is up is a member of an epoch after the last one the leaver is in (as it knows it) that
 * leaves it out. Otherwise the others still count it as a voter, and its leave, cut short by its
 * own bound (machine/leave-stay.ts), may cost them their majority as a crash would (sim seed 23
 * before that rule, at 1a64814: the leaver went once it held the epoch itself, its accept lost).
 */
export function leaveHeld(leaver: SimNode, nodes: readonly SimNode[]): boolean {
  const me = leaver.id;
  const own = leaver.machine.status();
  if (me === null || own.epoch === null) return true;
  const lastWith = own.members.includes(me) ? own.epoch : own.epoch - 1;
  return nodes.some((n) => {
    if (n === leaver || !n.up) return false;
    const s = n.machine.status();
    return s.member && s.epoch !== null && s.epoch > lastWith && !s.members.includes(me);
  });
}

/**
 * Whether `leaver` and another voter of its epoch that is up hear each other now (`hear`): a
 * leaver that did not at some moment of its stay was cut off (a partition, a crash, deafness),
 * and its leave cut short is a loss like a crash (noMajority).
 */
export function hearsVoters(
  leaver: SimNode,
  nodes: readonly SimNode[],
  hear: (a: SimNode, b: SimNode) => boolean,
): boolean {
  const voters = new Set<string>(leaver.machine.status().voters);
  return nodes.some((n) => n !== leaver && n.id !== null && voters.has(n.id) && hear(leaver, n));
}

/**
 * Why a run without a live majority lost it only to leaves cut short (`cutShort`, leaveEnd), or
 * null: with those leavers counted alive a majority remains, so the loss is one the leavers chose.
 */
export function lostToCutShortLeaves(
  nodes: readonly SimNode[],
  live: ReadonlySet<AgentId>,
  cutShort: ReadonlySet<AgentId>,
  nameOf: (id: string) => string,
  equivocators: ReadonlySet<AgentId> = new Set(),
): string | null {
  if (cutShort.size === 0) return null;
  const reason = noMajority(nodes, live, nameOf, equivocators);
  if (reason === null || noMajority(nodes, new Set([...live, ...cutShort]), nameOf, equivocators) !== null)
    return null;
  return `${reason}, lost only to ${[...cutShort].map(nameOf).join(",")} leaving before any member that stays held an epoch without them`;
}
