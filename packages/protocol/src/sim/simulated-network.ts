import type { AgentProfile } from "../economics/agent.ts";
import type { Demand } from "../economics/demand.ts";
import { type AgentMachine, createAgentMachine } from "../machine/agent-machine.ts";
import type { MachineAction, SyncWant } from "../machine/machine-io.ts";
import { createSigner, type Signer } from "../wire/agent-key.ts";
import type { Contract } from "../wire/contract.ts";
import type { AgentId } from "../wire/ids.ts";
import type { WireMessage } from "../wire/messages.ts";
import { createPrng, type Prng } from "./prng.ts";

/**
 * A deterministic in-memory network of agent machines on a virtual clock: gossip becomes
 * delayed broadcast (delays, loss and partitions drawn from a seeded PRNG), sync becomes a lookup
 * in a peer's accepted messages. The machines are exactly those the libp2p node runs, so this is
 * where thousands of nodes, adversarial orderings and faults are cheap to explore.
 */
export interface SimulatedNetworkOptions {
  readonly contract: Contract;
  readonly seed: number;
  /** Per-delivery delay in virtual ms, uniform in [min, max]. */
  readonly delay?: { readonly min: number; readonly max: number };
  /** Probability that one gossip delivery is lost. Sync replies are never lost. */
  readonly loss?: number;
  readonly tickMs?: number;
}

export interface SimNode {
  readonly name: string;
  readonly id: AgentId | null;
  readonly machine: AgentMachine;
  /** Every message this node accepted or published: what it would answer a sync request with. */
  readonly store: WireMessage[];
  up: boolean;
  rejected: number;
}

interface InFlight {
  readonly at: number;
  readonly seq: number;
  readonly to: SimNode;
  readonly message: WireMessage;
}

export class SimulatedNetwork {
  readonly nodes: SimNode[] = [];
  now = 0;
  readonly #contract: Contract;
  readonly #prng: Prng;
  readonly #delay: { min: number; max: number };
  readonly #loss: number;
  readonly #tickMs: number;
  #queue: InFlight[] = [];
  #seq = 0;
  #lastTick = 0;
  /** Nodes that cannot reach each other: group name per node name, absent = reachable by all. */
  #partition: Map<string, string> | null = null;

  constructor(options: SimulatedNetworkOptions) {
    this.#contract = options.contract;
    this.#prng = createPrng(options.seed);
    this.#delay = options.delay ?? { min: 1, max: 20 };
    this.#loss = options.loss ?? 0;
    this.#tickMs = options.tickMs ?? 50;
  }

  /** A 32-byte seed from the network's PRNG, so runs are reproducible. */
  newSigner(): Signer {
    const seed = new Uint8Array(32);
    for (let i = 0; i < 32; i++) seed[i] = Math.floor(this.#prng() * 256);
    return createSigner(seed);
  }

  /** `misreport`: FAULT INJECTION, makes this agent a lying member (see AgentMachineConfig). */
  addAgent(
    name: string,
    profile: AgentProfile,
    signer: Signer = this.newSigner(),
    misreport?: (demand: Demand, round: number) => Demand,
  ): SimNode {
    const machine = createAgentMachine({
      contract: this.#contract,
      agent: { signer, profile, ...(misreport ? { misreport } : {}) },
      now: this.now,
    });
    return this.#add({ name, id: signer.id, machine, store: [], up: true, rejected: 0 });
  }

  addObserver(name: string): SimNode {
    const machine = createAgentMachine({ contract: this.#contract, now: this.now });
    return this.#add({ name, id: null, machine, store: [], up: true, rejected: 0 });
  }

  #add(node: SimNode): SimNode {
    this.nodes.push(node);
    return node;
  }

  /** Stop delivering to and from a node (a crash); its store survives, as on disk. */
  crash(node: SimNode): void {
    node.up = false;
  }

  /** A restart on the same store: a fresh machine replays what was stored, then resumes. */
  restart(node: SimNode, profile: AgentProfile, signer: Signer): SimNode {
    const machine = createAgentMachine({
      contract: this.#contract,
      agent: { signer, profile },
      now: this.now,
    });
    const revived: SimNode = {
      name: node.name,
      id: node.id,
      machine,
      store: node.store,
      up: true,
      rejected: 0,
    };
    this.nodes[this.nodes.indexOf(node)] = revived;
    for (const m of node.store)
      if (machine.check(m).verdict === "accept")
        machine.handle({ type: "message", now: this.now, message: m, replay: true });
    this.#perform(revived, machine.handle({ type: "resume", now: this.now }));
    return revived;
  }

  leave(node: SimNode): void {
    this.#perform(node, node.machine.handle({ type: "leave", now: this.now }));
    node.up = false;
  }

  /** Deliver a message from outside the simulated nodes (an attacker's) to every node that is up. */
  inject(message: WireMessage): void {
    for (const node of this.nodes) if (node.up) this.#send(node, message, this.#randomDelay());
  }

  partition(groups: readonly (readonly SimNode[])[]): void {
    this.#partition = new Map();
    groups.forEach((g, i) => {
      for (const n of g) this.#partition?.set(n.name, String(i));
    });
  }

  heal(): void {
    this.#partition = null;
  }

  #reachable(a: SimNode, b: SimNode): boolean {
    if (!a.up || !b.up) return false;
    const p = this.#partition;
    return !p || p.get(a.name) === p.get(b.name);
  }

  /** Run until `done` holds or `limitMs` of virtual time pass; returns whether `done` held. */
  runUntil(done: () => boolean, limitMs: number): boolean {
    const end = this.now + limitMs;
    while (this.now <= end) {
      if (done()) return true;
      this.#step(end);
    }
    return done();
  }

  #step(end: number): void {
    const nextTick = this.#lastTick + this.#tickMs;
    const next = this.#queue[0];
    if (next && next.at <= nextTick) {
      this.#queue.shift();
      this.now = Math.max(this.now, next.at);
      this.#deliver(next.to, next.message);
      return;
    }
    this.now = Math.min(nextTick, end + 1);
    this.#lastTick = nextTick;
    for (const node of this.nodes)
      if (node.up) this.#perform(node, node.machine.handle({ type: "tick", now: this.now }));
  }

  #deliver(node: SimNode, message: WireMessage): void {
    if (!node.up) return;
    const verdict = node.machine.check(message);
    if (verdict.verdict === "reject") node.rejected += 1;
    if (verdict.verdict !== "accept") return;
    node.store.push(message);
    this.#perform(node, node.machine.handle({ type: "message", now: this.now, message }));
  }

  #perform(node: SimNode, actions: readonly MachineAction[]): void {
    for (const a of actions) {
      if (a.type === "publish") {
        node.store.push(a.message);
        for (const peer of this.nodes) {
          if (peer === node || !this.#reachable(node, peer) || this.#prng() < this.#loss) continue;
          this.#send(peer, a.message, this.#randomDelay());
        }
      } else if (a.type === "sync") {
        this.#answerSync(node, a.want);
      }
    }
  }

  #answerSync(node: SimNode, want: SyncWant): void {
    const peers = this.nodes.filter((p) => p !== node && this.#reachable(node, p));
    const peer = peers[Math.floor(this.#prng() * peers.length)];
    if (!peer) return;
    for (const m of peer.store) {
      if (m.kind === "join" || m.epoch !== want.epoch || !want.kinds.includes(m.kind)) continue;
      if (want.round !== undefined && "round" in m && m.round !== want.round) continue;
      this.#send(node, m, this.#randomDelay() * 2);
    }
  }

  #send(to: SimNode, message: WireMessage, delay: number): void {
    const item: InFlight = { at: this.now + delay, seq: this.#seq++, to, message };
    // Keep the queue ordered by (time, seq): a binary-search insert.
    let lo = 0;
    let hi = this.#queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const q = this.#queue[mid] as InFlight;
      if (q.at < item.at || (q.at === item.at && q.seq < item.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.#queue.splice(lo, 0, item);
  }

  #randomDelay(): number {
    return this.#delay.min + this.#prng() * (this.#delay.max - this.#delay.min);
  }
}
