import type { AgentMachine } from "../../machine/agent-machine.ts";
import type { MachineAction } from "../../machine/machine-io.ts";
import { createPrng } from "../../random/prng.ts";
import type { Certificate } from "../../wire/certificate.ts";
import { commitReference, encodeCommitReference } from "../../wire/commit-reference.ts";
import { type Contract, contractId, type NewtonModel } from "../../wire/contract.ts";
import type { AgentId, ContractId } from "../../wire/ids.ts";
import { encodeMessage } from "../../wire/message-codec.ts";
import type { CommitMessage, DemandMessage, WireMessage } from "../../wire/messages.ts";
import { buildMachine } from "../machine-factory.ts";
import { createSignatureMemo } from "../signature-memo.ts";
import { type NetworkEvent, type SimNode, SimulatedNetwork } from "../simulated-network.ts";
import { commitOf, demandOf, handledBy, joinOf, type LightAgent, type Published } from "./light-agents.ts";
import { scaleScenario } from "./scale-scenario.ts";

/**
 * A market of n agents on the simulated network under a WAN model: every message takes
 * latency ∈ [min, max] ms to each node, and each node handles its inbound messages one at a time
 * at a modelled CPU cost. The machines are the real ones (validation, signatures, rounds, price
 * rule, commits, certificates); all agents start at time 0, the first founds.
 *
 * Unreduced (`machines` = n): every agent is a machine and receives every message: n² deliveries
 * a round. Reduced (`machines` = M < n): M machines (the founder first) receive every message,
 * and the other n − M agents are light agents (light-agents.ts) that sign what an honest member
 * signs and publish it when their modelled node would. One light agent's messages come from a
 * real machine (the oracle) that is handed every message the moment it is published: it closes
 * each round first, so each round's prices and the epoch's commit body are known before any light
 * agent needs them. Every figure is read off the machines.
 */
export interface ScaleOptions {
  readonly agents: number;
  /** Machines; the rest are light agents. Default: all (unreduced). */
  readonly machines?: number;
  readonly seed?: number;
  /** Modelled CPU time per inbound message, ms. */
  readonly cpuPerMessageMs: number;
  /** Per-message one-way delay, uniform in [min, max] ms. Default 30–70 (50 ± 20). */
  readonly latencyMs?: { readonly min: number; readonly max: number };
  /** Transport framing added to each message's canonical encoding, bytes. */
  readonly framingBytes?: number;
  /**
   * "certified": until every machine holds a certificate. "settled": until every machine has
   * settled and signed its commit (the commit exchange is not run).
   */
  readonly until?: "certified" | "settled";
  /** Give up after this much virtual time, ms. */
  readonly limitMs?: number;
  /** The newton rule's model (scale-scenario.ts). Default hinges. */
  readonly model?: NewtonModel;
}

export interface ScaleResult {
  readonly agents: number;
  readonly machines: number;
  /** Each agent's id, in start order (the scenario's order). */
  readonly ids: readonly AgentId[];
  readonly cpuPerMessageMs: number;
  /** Virtual ms from start until the last machine held a certificate (null: not reached / not run). */
  readonly certifiedAtMs: number | null;
  /** Virtual ms from start until the last machine settled and signed its commit. */
  readonly settledAtMs: number | null;
  /** When the first epoch was decided (the founder's proposal). */
  readonly foundedAtMs: number | null;
  readonly rounds: number;
  /** Epochs any machine started (1: the first epoch certified without a membership change). */
  readonly epochs: number;
  /** Per machine, mean over machines: messages and bytes it received, by kind. */
  readonly received: Readonly<Record<string, { readonly messages: number; readonly bytes: number }>>;
  /** Round 0's demands as the founder received them (at most 256): real messages to size others by. */
  readonly sampleDemands: readonly DemandMessage[];
  /** The encoded size of one commit (it names every member and allocation). */
  readonly commitBytes: number | null;
  /** The founder's certificate, or (with until = "settled") its commit. */
  readonly certificate: Certificate | null;
  readonly commit: CommitMessage | null;
  /** Deliveries the simulation performed (all machines), and signatures actually verified. */
  readonly deliveries: number;
  readonly signaturesVerified: number;
}

export const DEFAULT_LATENCY = { min: 30, max: 70 } as const;
/** A gossipsub frame around one message: protobuf RPC, topic, sender, sequence number (~100 B). */
export const DEFAULT_FRAMING_BYTES = 100;

export function runScale(options: ScaleOptions): ScaleResult {
  const n = options.agents;
  const m = Math.min(n, options.machines ?? n);
  if (m < 1) throw new RangeError("a scale run needs at least one machine");
  const seed = options.seed ?? 1;
  const delay = options.latencyMs ?? DEFAULT_LATENCY;
  const framing = options.framingBytes ?? DEFAULT_FRAMING_BYTES;
  const cost = options.cpuPerMessageMs;
  const until = options.until ?? "certified";
  const { contract, profiles } = scaleScenario(n, seed, cost, options.model);
  const cid = contractId(contract);
  const memo = createSignatureMemo();

  const sizes = new WeakMap<WireMessage, number>();
  const sizeOf = (msg: WireMessage): number => {
    let s = sizes.get(msg);
    if (s === undefined) {
      s = encodeMessage(msg).length + framing;
      sizes.set(msg, s);
    }
    return s;
  };
  // One commit reaches every machine: its reference is sized once, as a message is.
  const referenceSizes = new WeakMap<CommitMessage, number>();
  const referenceSizeOf = (commit: CommitMessage): number => {
    let size = referenceSizes.get(commit);
    if (size === undefined) {
      size = encodeCommitReference(commitReference(commit)).length + framing;
      referenceSizes.set(commit, size);
    }
    return size;
  };
  const received = new Map<string, { messages: number; bytes: number }>();
  const certifiedAt = new Map<string, number>();
  const settledAt = new Map<string, number>();
  let foundedAt: number | null = null;
  let firstCommit: CommitMessage | null = null;
  let deliveries = 0;
  const sampleDemands: DemandMessage[] = [];
  let light: LightDriver | null = null;

  const onActions = (node: SimNode, at: number, actions: readonly MachineAction[]) => {
    for (const a of actions) {
      if (a.type === "certificate" && !certifiedAt.has(node.name)) certifiedAt.set(node.name, at);
      if (a.type !== "publish") continue;
      const msg = a.message;
      if (msg.kind === "propose" && msg.epoch === 0 && foundedAt === null) foundedAt = at;
      if (msg.kind === "commit") {
        settledAt.set(node.name, at);
        firstCommit ??= msg;
      }
      light?.published(msg, at, -1);
    }
  };
  // Past ~1,600 members the full-information protocol's messages outgrow the wire's cap (the
  // aggregation of docs/scaling.md §2 replaces them); lifted here to measure what it would cost.
  const unbounded = { maxMessageBytes: Number.POSITIVE_INFINITY };
  const net = new SimulatedNetwork({
    machineFactory: (spec) => buildMachine({ ...spec, ...unbounded }),
    contract,
    seed,
    delay,
    cpuPerMessageMs: cost,
    verify: memo.verify,
    observer: (event: NetworkEvent) => {
      if (event.type === "deliver") {
        deliveries += 1;
        const kind = event.message.kind;
        const r = received.get(kind) ?? { messages: 0, bytes: 0 };
        r.messages += 1;
        // Gossip carries a commit as a reference to its body (docs/protocol.md §8); sync, whole.
        r.bytes +=
          event.via === "gossip" && event.message.kind === "commit"
            ? referenceSizeOf(event.message)
            : sizeOf(event.message);
        received.set(kind, r);
        const msg = event.message;
        if (
          msg.kind === "demand" &&
          msg.round === 0 &&
          event.node.name === "n0" &&
          sampleDemands.length < 256
        )
          sampleDemands.push(msg);
      }
      if ("actions" in event) onActions(event.node, event.at, event.actions);
    },
  });
  const signers = profiles.map(() => net.newSigner());
  const machines: SimNode[] = [];
  if (m < n) {
    const agents: LightAgent[] = [];
    for (let i = m; i < n; i++)
      agents.push({
        name: `l${i}`,
        signer: signers[i] as (typeof signers)[number],
        profile: profiles[i] as (typeof profiles)[number],
        busyUntil: 0,
        lastX: undefined,
      });
    light = new LightDriver(net, agents, {
      oracle: buildMachine({
        contract,
        now: 0,
        role: "joiner",
        signer: agents[0]?.signer as (typeof signers)[number],
        profile: agents[0]?.profile as (typeof profiles)[number],
        verify: memo.verify,
        ...unbounded,
      }),
      contract,
      cid,
      delay,
      cost,
      seed,
      untilSettled: until === "settled",
    });
  }
  for (let i = 0; i < m; i++)
    machines.push(
      net.addAgent(
        `n${i}`,
        profiles[i] as (typeof profiles)[number],
        signers[i],
        i === 0 ? "founder" : "joiner",
      ),
    );
  light?.start();

  const done = () =>
    until === "certified" ? certifiedAt.size === machines.length : settledAt.size === machines.length;
  net.runUntil(done, options.limitMs ?? 600_000);

  const founder = machines[0] as SimNode;
  const certificate = founder.machine.certificates()[0] ?? null;
  const commit: CommitMessage | null = firstCommit;
  const lastOf = (times: Map<string, number>) =>
    times.size === machines.length ? Math.max(...times.values()) : null;
  const epochs = Math.max(...machines.map((node) => node.machine.status().epoch ?? -1)) + 1;
  const round = certificate?.commit.round ?? (commit as CommitMessage | null)?.round ?? -1;
  const perMachine: Record<string, { messages: number; bytes: number }> = {};
  for (const [kind, r] of received)
    perMachine[kind] = { messages: r.messages / machines.length, bytes: r.bytes / machines.length };
  return {
    agents: n,
    machines: m,
    ids: signers.map((s) => s.id),
    cpuPerMessageMs: cost,
    certifiedAtMs: until === "certified" ? lastOf(certifiedAt) : null,
    settledAtMs: lastOf(settledAt),
    foundedAtMs: foundedAt,
    rounds: round + 1,
    epochs,
    received: perMachine,
    sampleDemands,
    commitBytes: commit ? sizeOf(commit) : null,
    certificate,
    commit,
    deliveries,
    signaturesVerified: memo.stats().verified,
  };
}

interface LightDriverConfig {
  /** A real machine with the first light agent's key, handed every message as it is published. */
  readonly oracle: AgentMachine;
  readonly contract: Contract;
  readonly cid: ContractId;
  readonly delay: { readonly min: number; readonly max: number };
  readonly cost: number;
  readonly seed: number;
  readonly untilSettled: boolean;
}

/**
 * Runs the light agents of a reduced scale run: collects what is published into the current
 * batch, and when the oracle moves on (its demand for the next round, or its commit) releases
 * every light agent's matching message at the time its node has handled the batch.
 */
class LightDriver {
  readonly #net: SimulatedNetwork;
  readonly #agents: readonly LightAgent[];
  readonly #c: LightDriverConfig;
  readonly #prng;
  #batch: Published[] = [];
  /** Oracle outputs waiting to be acted on (feeding it may make it publish). */
  readonly #pending: WireMessage[] = [];
  #feeding = false;

  constructor(net: SimulatedNetwork, agents: readonly LightAgent[], config: LightDriverConfig) {
    this.#net = net;
    this.#agents = agents;
    this.#c = config;
    this.#prng = createPrng(config.seed * 7919 + 17);
  }

  start(): void {
    for (const [i, agent] of this.#agents.entries()) this.#publish(i, joinOf(agent, this.#c.cid), 0);
  }

  /** Something was published at `at` (by light agent `by`, or -1: a machine). */
  published(message: WireMessage, at: number, by: number): void {
    this.#batch.push({ at, by });
    if (by !== 0) this.#feed(message);
  }

  #publish(index: number, message: WireMessage, at: number): void {
    const agent = this.#agents[index] as LightAgent;
    this.#net.publishAt(agent.name, message, at);
    this.published(message, at, index);
  }

  /** Hand the oracle a message now; act on what it publishes, one at a time. */
  #feed(message: WireMessage): void {
    const oracle = this.#c.oracle;
    if (oracle.check(message).verdict === "accept")
      for (const a of oracle.handle({ type: "message", now: this.#net.now, message }))
        if (a.type === "publish") this.#pending.push(a.message);
    if (this.#feeding) return;
    this.#feeding = true;
    try {
      for (let next = this.#pending.shift(); next; next = this.#pending.shift()) this.#onOracle(next);
    } finally {
      this.#feeding = false;
    }
  }

  #onOracle(message: WireMessage): void {
    if (message.kind !== "demand" && message.kind !== "commit") return;
    if (message.kind === "commit" && this.#c.untilSettled) return;
    const batch = this.#batch;
    this.#batch = [];
    const { delay, cost } = this.#c;
    this.#agents.forEach((agent, i) => {
      const at = handledBy(agent, i, batch, delay, cost, this.#prng);
      const own =
        i === 0
          ? message
          : message.kind === "demand"
            ? demandOf(agent, this.#c.contract, this.#c.cid, message as DemandMessage)
            : commitOf(agent, message);
      this.#publish(i, own, at);
    });
  }
}
