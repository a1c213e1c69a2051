import type { AgentProfile } from "../economics/agent.ts";
import type { MachineAction } from "../machine/machine-io.ts";
import type { Signer } from "../wire/agent-key.ts";
import { contractSchema } from "../wire/contract.ts";
import type { AgentId } from "../wire/ids.ts";
import { twinOf } from "./byzantine-member.ts";
import { type AgentKeys, applyFault, type Fault } from "./fault-model.ts";
import { createInvariantChecker, type Violation } from "./invariants.ts";
import {
  hearsVoters,
  leaveHeld,
  liveAgents,
  livenessBound,
  livenessCheck,
  livenessDeadline,
  lostToCutShortLeaves,
  noMajority,
} from "./liveness.ts";
import { type AgentPlan, drawSchedule, lastChange, type Schedule, type ScheduleLimits } from "./schedule.ts";
import { createSignatureMemo } from "./signature-memo.ts";
import { type NetworkEvent, type SimNode, SimulatedNetwork } from "./simulated-network.ts";
import { createTrace } from "./trace.ts";

/**
 * One seed, run: draw its schedule, start the agents and apply the faults at their times on a
 * SimulatedNetwork of real machines, check the invariants on every event, then the liveness
 * promise after the last fault. The first violation ends the run, unless `keepGoing` asks to
 * see which other invariants the run breaks too (a storm, S1, always ends it).
 */
export interface RunOptions extends ScheduleLimits {
  /** Keep every trace line (for printing a replay). */
  readonly trace?: boolean;
  /** After liveness holds, run this much longer to catch late safety violations; roundMs if absent. */
  readonly coolDownMs?: number;
  /** Go on after a violation, to record the first violation of every invariant. */
  readonly keepGoing?: boolean;
  /**
   * Gossip through a mesh of this degree (SimulatedNetworkOptions.mesh), so that messages cross
   * several hops and each node forwards by its own verdict; broadcast unless given.
   */
  readonly mesh?: number;
  /** Sees every event the network reports, before the invariants do: for measurements, not checks. */
  readonly observe?: (event: NetworkEvent) => void;
}

export interface SeedResult {
  readonly seed: number;
  readonly schedule: Schedule;
  /** The first violation. */
  readonly violation: Violation | null;
  /** The first violation of each invariant, in the order found (just the first without keepGoing). */
  readonly violations: readonly Violation[];
  readonly liveness:
    | { readonly status: "held"; readonly afterLastChangeMs: number; readonly boundMs: number }
    | { readonly status: "exempt"; readonly reason: string; readonly boundMs: number }
    /**
     * No live majority, lost only to leavers that went by their own rule before any member that stays
     * held an epoch without them (liveness.ts). `cutOff`: each was cut off from the other voters at
     * some moment of its stay (a partition, a crash, deafness), which the protocol takes as a
     * crash; otherwise it heard them all along and its leave was still not decided in time.
     */
    | {
        readonly status: "cut-short";
        readonly reason: string;
        readonly cutOff: boolean;
        readonly boundMs: number;
      }
    | { readonly status: "not-reached"; readonly boundMs: number };
  /** Network events observed (deliveries, ticks, faults). */
  readonly events: number;
  /** Virtual time at the end of the run, ms. */
  readonly endedAt: number;
  readonly traceHash: string;
  /** Every trace line with `trace`; else null. */
  readonly trace: readonly string[] | null;
  /** The last trace lines before the run ended (a failure's context). */
  readonly recent: readonly string[];
  readonly signatures: { readonly verified: number; readonly remembered: number };
  /**
   * Demands published at a member's activity cap (with `exit`, protocol §4), and the epochs among
   * theirs that certified: there I4 checked a settlement the cap-exit path took part in.
   */
  readonly capExits: { readonly demands: number; readonly certifiedEpochs: number };
  /**
   * Decision messages a node with no epoch took by gossip straight from one of its bootstrap nodes
   * (docs/protocol.md §9.3), from the founder or from another node, and how many of them made it
   * adopt an epoch: what shows the rule ran.
   */
  readonly bootstrapTaken: BootstrapTaken;
}

export interface BootstrapTaken {
  readonly founder: { readonly taken: number; readonly adopted: number };
  readonly other: { readonly taken: number; readonly adopted: number };
}

type Step =
  | { readonly at: number; readonly start: AgentPlan }
  | { readonly at: number; readonly fault: Fault };

export function runSeed(seed: number, options: RunOptions = {}): SeedResult {
  return runSchedule(drawSchedule(seed, options), options);
}

export function runSchedule(schedule: Schedule, options: RunOptions = {}): SeedResult {
  const memo = createSignatureMemo();
  const names = new Map<string, string>();
  const nameOf = (id: string) => names.get(id) ?? `?${id.slice(-6)}`;
  const profiles = new Map<string, AgentProfile>();
  const trace = createTrace({ nameOf, keepAll: options.trace === true });
  // The keys, first, in start order, so they do not depend on when anything happens. They come
  // from the network's stream, which the network below draws again (the same keys), so that an
  // allowlist of them can be in the contract the network is built with.
  const signers = keyStream(schedule);
  const contract = schedule.allowlist
    ? contractSchema.parse({
        ...schedule.contract,
        membership: { policy: "allowlist", members: signers.map((s) => s.id) },
      })
    : schedule.contract;
  const equivocating = new Set(schedule.byzantine.equivocators);
  const checker = createInvariantChecker({
    contract,
    profileOf: (id) => profiles.get(id),
    nameOf,
    equivocators: new Set(
      schedule.agents.flatMap((a, i) => (equivocating.has(a.name) ? [(signers[i] as Signer).id] : [])),
    ),
  });
  const violations: Violation[] = [];
  const record = (v: Violation) => {
    if (violations.some((w) => w.invariant === v.invariant)) return;
    violations.push(v);
    trace.note(`VIOLATION ${v.invariant} at ${v.at.toFixed(1)} ms (${v.node}): ${v.summary}`);
  };
  const stopped = () =>
    violations.length > 0 && (options.keepGoing !== true || violations.some((v) => v.invariant === "S1"));
  let events = 0;
  let certified = false;
  /** Leavers still staying, and whether they were cut off from the other voters at some moment of it. */
  const staying = new Map<AgentId, { readonly node: SimNode; cutOff: boolean }>();
  /** Leavers that went before any member that stays held an epoch without them: cut off? (liveness.ts) */
  const cutShort = new Map<AgentId, boolean>();
  const hear = (a: SimNode, b: SimNode) => net.reaches(a, b) && !a.deaf && !b.deaf;
  // At the leave, at each fault during the stay, and at the going.
  const noteCutOff = () => {
    for (const s of staying.values()) if (s.node.up && !hearsVoters(s.node, net.nodes, hear)) s.cutOff = true;
  };
  const noteLeft = (node: SimNode, at: number) => {
    const id = node.id as AgentId;
    const cutOff = staying.get(id)?.cutOff === true || !hearsVoters(node, net.nodes, hear);
    staying.delete(id);
    if (leaveHeld(node, net.nodes)) return;
    cutShort.set(id, cutOff);
    trace.note(
      `${node.name} leaves at ${at.toFixed(1)} ms before any member that stays holds an epoch without it${cutOff ? " (cut off from them during its stay)" : ""}`,
    );
  };
  const capExits = { demands: 0, epochs: new Set<number>(), certified: new Set<number>() };
  const noteCapExits = (actions: readonly MachineAction[]) => {
    for (const a of actions) {
      if (a.type === "publish" && a.message.kind === "demand" && a.message.exit !== undefined) {
        capExits.demands += 1;
        capExits.epochs.add(a.message.epoch);
      }
      if (a.type === "certificate" && capExits.epochs.has(a.certificate.commit.epoch))
        capExits.certified.add(a.certificate.commit.epoch);
    }
  };
  const bootstrapTaken = { founder: { taken: 0, adopted: 0 }, other: { taken: 0, adopted: 0 } };
  const noteBootstrapTaken = (event: NetworkEvent) => {
    if (event.type !== "deliver" || event.via !== "gossip" || event.verdict.verdict !== "accept") return;
    if (event.verdict.onTrust !== true || !event.node.bootstrap.includes(event.from)) return;
    const from = net.node(event.from);
    if (from?.key !== event.message.agent) return;
    const count = from.role === "founder" ? bootstrapTaken.founder : bootstrapTaken.other;
    count.taken += 1;
    if (event.actions.some((a) => a.type === "epoch-started")) count.adopted += 1;
  };
  const net = new SimulatedNetwork({
    contract,
    seed: schedule.networkSeed,
    delay: { min: schedule.network.latencyMs, max: schedule.network.latencyMs + schedule.network.jitterMs },
    loss: schedule.network.loss,
    ...(schedule.network.syncServeMs ? { syncServeMs: schedule.network.syncServeMs } : {}),
    // Half the nodes start as a live one does when its first join reaches no one (the `linked`
    // rule's trigger): alone until discovery links it, within two announcement periods.
    linkUp: { fraction: 0.5, maxMs: 2 * schedule.contract.timeouts.announceMs },
    verify: memo.verify,
    ...(options.mesh !== undefined ? { mesh: { degree: options.mesh } } : {}),
    observer: (event) => {
      events += 1;
      options.observe?.(event);
      trace.record(event);
      noteBootstrapTaken(event);
      if (stopped()) return;
      for (const v of checker.observe(event)) record(v);
      if (event.type === "leave" && event.node.id)
        staying.set(event.node.id, { node: event.node, cutOff: false });
      if (event.type !== "deliver" && event.type !== "tick") noteCutOff();
      if (!("actions" in event)) return;
      if (event.actions.some((a) => a.type === "certificate")) certified = true;
      noteCapExits(event.actions);
      if (event.node.id && event.actions.some((a) => a.type === "left")) noteLeft(event.node, event.at);
    },
  });

  const keys = new Map<string, AgentKeys>();
  for (const a of schedule.agents) {
    const signer = memo.signer(net.newSigner());
    keys.set(a.name, { signer, profile: a.profile });
    names.set(signer.id, a.name);
    profiles.set(signer.id, a.profile);
  }
  const keysOf = (name: string): AgentKeys => {
    const k = keys.get(name);
    if (!k) throw new Error(`no agent named ${name} in this schedule`);
    return k;
  };

  const n = schedule.network;
  if (signers.some((s, i) => s.id !== keysOf(schedule.agents[i]?.name ?? "").signer.id))
    throw new Error("the network drew other keys than keyStream");
  trace.note(
    `seed ${schedule.seed}: ${schedule.agents.length} agents, ${schedule.faults.length} faults, latency ${n.latencyMs.toFixed(1)}+${n.jitterMs.toFixed(1)} ms, loss ${(100 * n.loss).toFixed(1)}%${n.syncServeMs ? `, sync answers up to ${n.syncServeMs} ms late` : ""}, minMembers ${schedule.contract.minMembers}, fee ${schedule.contract.fees.fixed}, roundMs ${schedule.contract.timeouts.roundMs}, announceMs ${schedule.contract.timeouts.announceMs}, resources ${contract.resources.length}${schedule.allowlist ? ", allowlist" : ""}${options.mesh !== undefined ? `, mesh ${options.mesh}` : ""}${equivocating.size > 0 ? `, equivocating {${[...equivocating].join(",")}}` : ""}`,
  );

  const steps: Step[] = [
    ...schedule.agents.map((start) => ({ at: start.start, start })),
    ...schedule.faults.map((fault) => ({ at: fault.at, fault })),
  ];
  // Stable: starts before faults at one instant, and each list keeps its own order.
  steps.sort((a, b) => a.at - b.at);
  for (const step of steps) {
    net.runUntil(stopped, step.at - net.now);
    if (stopped()) break;
    if ("start" in step) {
      const { signer, profile } = keysOf(step.start.name);
      const twin = equivocating.has(step.start.name) ? twinOf(signer) : undefined;
      net.addAgent(step.start.name, profile, signer, step.start.role, undefined, twin, step.start.bootstrap);
    } else applyFault(net, step.fault, keysOf);
  }

  const boundMs = livenessBound(schedule);
  const live = new Set(liveAgents(schedule).map((name) => keysOf(name).signer.id as AgentId));
  const equivocatorIds = new Set([...equivocating].map((name) => keysOf(name).signer.id as AgentId));
  let liveness: SeedResult["liveness"] = { status: "not-reached", boundMs };
  if (!stopped()) {
    const livenessHolds = livenessCheck(live, equivocatorIds);
    const holds = () => {
      if (!certified) return false;
      certified = false;
      return livenessHolds(net.nodes);
    };
    const reached = net.runUntil(() => stopped() || holds(), livenessDeadline(schedule) - net.now);
    if (reached && !stopped()) {
      liveness = { status: "held", afterLastChangeMs: net.now - lastChange(schedule), boundMs };
      net.runUntil(stopped, options.coolDownMs ?? schedule.contract.timeouts.roundMs);
    } else if (!stopped()) {
      const cut = lostToCutShortLeaves(net.nodes, live, new Set(cutShort.keys()), nameOf, equivocatorIds);
      const exempt = cut === null ? noMajority(net.nodes, live, nameOf, equivocatorIds) : null;
      if (cut) {
        const cutOff = [...cutShort.values()].every((off) => off);
        liveness = { status: "cut-short", reason: cut, cutOff, boundMs };
        trace.note(`no live majority, lost to leaves cut short${cutOff ? " while cut off" : ""}: ${cut}`);
      } else if (exempt) liveness = { status: "exempt", reason: exempt, boundMs };
      else
        record({
          invariant: "liveness",
          at: net.now,
          node: "-",
          summary: `live agents {${[...live].map(nameOf).join(",")}} did not all certify an epoch of exactly them within ${boundMs} ms of the last change at ${lastChange(schedule).toFixed(1)} ms`,
          context: net.nodes
            .filter((node) => node.up)
            .map((node) => {
              const s = node.machine.status();
              const cert = node.machine.certificates().at(-1);
              return `${node.name}: ${s.status} epoch ${s.epoch} {${s.members.map(nameOf).join(",")}} round ${s.round}, last certificate ${cert ? `e${cert.commit.epoch} {${cert.commit.members.map(nameOf).join(",")}}` : "none"}`;
            }),
        });
    }
  }
  if (violations.length === 0) trace.note(`ok: liveness ${liveness.status}`);
  return {
    seed: schedule.seed,
    schedule,
    violation: violations[0] ?? null,
    violations,
    liveness,
    events,
    endedAt: net.now,
    traceHash: trace.hash(),
    trace: trace.lines(),
    recent: trace.recent(),
    signatures: memo.stats(),
    capExits: { demands: capExits.demands, certifiedEpochs: capExits.certified.size },
    bootstrapTaken,
  };
}

/** The agents' keys as the schedule's network draws them first, in start order. */
function keyStream(schedule: Schedule): Signer[] {
  const net = new SimulatedNetwork({ contract: schedule.contract, seed: schedule.networkSeed });
  return schedule.agents.map(() => net.newSigner());
}
