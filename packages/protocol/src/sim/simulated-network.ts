import type { AgentProfile } from "../economics/agent.ts";
import type { Demand } from "../economics/demand.ts";
import type { AgentMachine } from "../machine/agent-machine.ts";
import { MAX_CONVICTED } from "../machine/conviction.ts";
import { decisionsFrom } from "../machine/epoch-plan.ts";
import { floodsOnPublish } from "../machine/flood-publish.ts";
import { forwards } from "../machine/forward-rule.ts";
import type { MachineAction, MachineEvent, SyncWant, Verdict } from "../machine/machine-io.ts";
import type { SyncOutcome } from "../machine/sync-peer-load.ts";
import { createSyncQueue, type SyncQueue, type SyncStart, type SyncWantKey } from "../machine/sync-queue.ts";
import { createPrng, type Prng, shuffled } from "../random/prng.ts";
import { createSigner, type Signer } from "../wire/agent-key.ts";
import { commitBodyDigest, commitMessageBodyDigest } from "../wire/certificate.ts";
import {
  commitReference,
  type HeldCommitReferences,
  heldCommitReferences,
} from "../wire/commit-reference.ts";
import type { Contract } from "../wire/contract.ts";
import type { AgentId } from "../wire/ids.ts";
import { messageDigest } from "../wire/message-codec.ts";
import type { EquivocationProof, MessageKind, WireMessage } from "../wire/messages.ts";
import { BootstrapReach } from "./bootstrap-reach.ts";
import { type ByzantineAct, garbled } from "./byzantine-member.ts";
import { EventQueue } from "./event-queue.ts";
import { GossipMesh, type MeshOptions } from "./gossip-mesh.ts";
import { buildMachine, type MachineFactory, type MachineRole } from "./machine-factory.ts";
import { SeenCache } from "./seen-cache.ts";
import { syncAnswer } from "./sync-answer.ts";

/** Seeds the sync stream from the network's seed. */
const SYNC_STREAM = 0x5e7c_0001;

/** Seeds the mesh's own stream (its links), so that drawing them moves no gossip draw. */
const MESH_STREAM = 0x3e54_0001;

/** gossipsub's heartbeat interval (its default), when the mesh is maintained. */
const MESH_HEARTBEAT_MS = 1_000;

/** gossipsub's seen-cache lifetime (its default, which the node keeps: node's network/host.ts). */
const SEEN_TTL_MS = 120_000;

/**
 * A deterministic in-memory network of agent machines on a virtual clock: gossip becomes
 * delayed broadcast, or hops through a mesh with `mesh` (delays, loss and partitions drawn from a
 * seeded PRNG), sync becomes a lookup
 * in a peer's accepted messages. The machines are exactly those the libp2p node runs, so this is
 * where thousands of nodes, adversarial orderings and faults are cheap to explore.
 *
 * Each node ticks when its machine's `nextDeadline()` says, as the libp2p node's one timer does.
 * Every event (a delivery, a tick, a fault) is reported to the observer with the actions it
 * produced: that is where the simulator checks its invariants.
 */
export interface SimulatedNetworkOptions {
  readonly contract: Contract;
  readonly seed: number;
  /** Per-delivery delay in virtual ms, uniform in [min, max]. */
  readonly delay?: { readonly min: number; readonly max: number };
  /** Probability that one gossip delivery, or one sync request with its answer, is lost. */
  readonly loss?: number;
  /**
   * Modelled CPU time each node spends on one inbound message, ms (0, the default: none). A node
   * handles its inbound messages one at a time in arrival order, so a message that arrives at t
   * is handled at max(t, the node's busy-until) + cost, and the node is busy until then.
   */
  readonly cpuPerMessageMs?: number;
  /** Builds every node's machine; buildMachine unless given. */
  readonly machineFactory?: MachineFactory;
  /** The signature check every machine uses (the simulator's memo); verifyMessage unless given. */
  readonly verify?: (message: WireMessage) => boolean;
  /**
   * A live node starts with no peers: its first join reaches no one until discovery links it. With
   * this, each started node (not a restart) is, with probability `fraction`, cut off entirely
   * (sends nothing, receives nothing) for U(0, maxMs) after its start, then told `linked`. Drawn
   * from the network's PRNG at the start, so a seed replays exactly. None unless given.
   */
  readonly linkUp?: { readonly fraction: number; readonly maxMs: number };
  /** Sees every event and the actions it produced, in order. */
  readonly observer?: (event: NetworkEvent) => void;
  /** The most messages one `messages` want brings (MAX_SYNC_WANT_MESSAGES unless given; tests shrink it). */
  readonly syncAnswerCap?: number;
  /**
   * A starved network (many node processes on few cores): every sync answer is built this much
   * later at most, a uniform draw from [0, syncServeMs] per answer on the sync stream (none
   * unless given, and then no draw, so other runs replay as before). Gossip is not slowed: what
   * 100 processes on two cores showed was catch-up answers coming at 2.6 s of a 3 s timeout.
   */
  readonly syncServeMs?: number;
  /**
   * Gossip through a mesh (gossip-mesh.ts) rather than by broadcast, as gossipsub does: a node
   * publishes to its mesh neighbours (its own propose, accept and view to every peer it reaches:
   * flood-publish.ts), and a node forwards a gossiped message to its neighbours only if its
   * verdict says so (forward-rule.ts: not what it took on trust, nor what it rejected or ignored);
   * a gossiped id already in its seen cache is dropped unjudged. Absent: broadcast, every publish
   * reaching every peer directly, a relay too, and nothing forwarded.
   */
  readonly mesh?: MeshOptions;
}

export interface SimNode {
  readonly name: string;
  readonly id: AgentId | null;
  /** The key its node is known by (peer id = agent id): its agent's, a founding observer's, or none. */
  readonly key: AgentId | null;
  readonly role: MachineRole;
  /**
   * The nodes it was started with as bootstrap nodes (`--bootstrap`), by name: the same at every
   * restart, as a restarted process gets the same flags. Empty for a founder.
   */
  readonly bootstrap: readonly string[];
  readonly machine: AgentMachine;
  /** Every message this node accepted or published: what it would answer a sync request with. */
  readonly store: WireMessage[];
  /**
   * The proofs its machine convicted agents on, one per agent, the newest MAX_CONVICTED: kept with
   * the store across a restart and handed back before the replay (the node's conviction record).
   */
  readonly convicted: EquivocationProof[];
  up: boolean;
  /** Messages this node rejected (verdict "reject"; "ignore" is not counted). */
  rejected: number;
  /** Extra delay on everything this node sends (a slow member), ms. */
  slowMs: number;
  /** Nothing sent to it arrives while its own messages still go out (a node cut off inbound). */
  deaf: boolean;
  /** Not linked to anyone yet (see `linkUp`): it reaches no one and no one reaches it. */
  unlinked: boolean;
  /** When this node's pending tick is due (Infinity: none pending). */
  tickAt: number;
  /** Until when this node's CPU is taken by inbound messages (with `cpuPerMessageMs`). */
  busyUntil: number;
  /** Gossiped commits (references on the wire) that came before this node settled their epoch. */
  readonly held: HeldCommitReferences<HeldFrom>;
  /** What its gossipsub has seen (received by gossip or published): a relay of one is not sent. */
  readonly seen: SeenCache;
  /**
   * FAULT INJECTION: an equivocator's second message for the slot of one it publishes (null: it
   * does not equivocate on that one). Null for an honest node.
   */
  readonly twin: ((message: WireMessage) => WireMessage | null) | null;
  /** Its sync client's catch-ups (the node's own queue), and how many of each one's requests are out. */
  readonly sync: SyncQueue;
  readonly syncPending: Map<SyncWantKey, number>;
}

/**
 * Who sent a held commit reference, and whether it was forged: a forgery released from the hold
 * is still one (else its rejection would count against the honest agent whose commit it garbled).
 */
interface HeldFrom {
  readonly from: string;
  readonly forged: boolean;
}

/** What happened in the network, with the actions the affected node's machine returned. */
export type NetworkEvent =
  | {
      readonly type: "start";
      readonly at: number;
      readonly node: SimNode;
      /** When it links to its first peers, if it starts with none (see `linkUp`). */
      readonly linkAt?: number;
    }
  | { readonly type: "link-up"; readonly at: number; readonly node: SimNode }
  /** `node`'s machine was told `peer`'s key: it reaches that bootstrap node for the first time. */
  | { readonly type: "bootstrap-peer"; readonly at: number; readonly node: SimNode; readonly peer: SimNode }
  | {
      readonly type: "deliver";
      readonly at: number;
      readonly node: SimNode;
      readonly from: string;
      readonly via: "gossip" | "sync";
      readonly message: WireMessage;
      readonly verdict: Verdict;
      /**
       * The message was signed by an honest simulated agent and came from a simulated node (not
       * injected from outside): no honest node may reject it.
       */
      readonly honestAuthor: boolean;
      /** FAULT INJECTION: garbled under its old signature (a forgery), so it must not verify. */
      readonly forged: boolean;
      readonly actions: readonly MachineAction[];
      readonly unsent?: Unsent;
    }
  | {
      readonly type: "tick";
      readonly at: number;
      readonly node: SimNode;
      readonly actions: readonly MachineAction[];
      readonly unsent?: Unsent;
    }
  | { readonly type: "crash"; readonly at: number; readonly node: SimNode }
  | {
      readonly type: "restart";
      readonly at: number;
      readonly node: SimNode;
      /** What the machine derived while replaying its store (it publishes nothing then). */
      readonly replayed: readonly MachineAction[];
      readonly actions: readonly MachineAction[];
      readonly unsent?: Unsent;
    }
  | {
      readonly type: "leave";
      readonly at: number;
      readonly node: SimNode;
      readonly actions: readonly MachineAction[];
      readonly unsent?: Unsent;
    }
  | { readonly type: "partition"; readonly at: number; readonly groups: readonly (readonly string[])[] }
  | { readonly type: "heal"; readonly at: number }
  | { readonly type: "slow"; readonly at: number; readonly node: SimNode; readonly ms: number }
  | { readonly type: "deaf"; readonly at: number; readonly node: SimNode; readonly deaf: boolean }
  | {
      /** FAULT INJECTION: `node` sent `message` to `to` (byzantine-member.ts). */
      readonly type: "byzantine";
      readonly at: number;
      readonly node: SimNode;
      readonly act: ByzantineAct;
      readonly to: readonly string[];
      readonly message: WireMessage;
    };

/**
 * Where in an event's `actions` the relays stand that the node's gossipsub did not send: its seen
 * cache held the message (received by gossip, published, or relayed before). Set by the network,
 * which acts on it, so that the trace prints the decision taken rather than a guess at it.
 * Absent: none.
 */
export type Unsent = ReadonlySet<number>;

/** The events that carry a node's actions. */
type ActingEvent = Extract<NetworkEvent, { readonly actions: readonly MachineAction[] }>;

/** What a node's gossipsub makes of one event's actions (see #gossipsub). */
interface Gossiped {
  /** An equivocator's second message for the slot of the publish at that index (SimNode.twin). */
  readonly twins: ReadonlyMap<number, WireMessage>;
  readonly unsent: Unsent;
}

/** A message on its way to a node: "arrive" at the node, waiting for its CPU; "deliver": handled now. */
interface InFlight {
  readonly at: number;
  readonly seq: number;
  readonly to: SimNode;
  readonly from: string;
  readonly via: "gossip" | "sync";
  readonly message: WireMessage;
  readonly forged?: boolean;
  /**
   * A gossiped commit reference released from the hold (#releaseHeld): gossipsub already dropped it
   * (the node's validator said ignore), so it is neither checked against the seen cache nor
   * forwarded.
   */
  readonly released?: true;
}

type Queued =
  | (InFlight & { readonly kind: "deliver" })
  | (InFlight & { readonly kind: "arrive" })
  | { readonly kind: "tick"; readonly at: number; readonly seq: number; readonly node: SimNode }
  | { readonly kind: "link-up"; readonly at: number; readonly seq: number; readonly node: SimNode }
  /** The mesh's maintenance (GossipMesh.maintain), every node at once: only with a mesh. */
  | { readonly kind: "heartbeat"; readonly at: number; readonly seq: number }
  /** One request of `node`'s catch-up `key` to `peer` ended: answered, or timed out. */
  | {
      readonly kind: "sync-end";
      readonly at: number;
      readonly seq: number;
      readonly node: SimNode;
      readonly key: SyncWantKey;
      readonly peer: string;
      readonly outcome: SyncOutcome;
      /** The request's kind and, answered, how long the answer took (the sync client's timer learns it). */
      readonly type: SyncWant["type"];
      readonly ms: number;
    }
  /**
   * One of `node`'s `messages` requests ended, answered or not (the machine's `sync-ended`): queued
   * before the answer's messages, as the node tells its machine before it applies an answer.
   */
  | {
      readonly kind: "sync-outcome";
      readonly at: number;
      readonly seq: number;
      readonly node: SimNode;
      readonly answered: boolean;
      readonly timeoutMs: number;
    }
  /** A peer's answer to a request for the current decision held nothing (the node's `no-decision`). */
  | {
      readonly kind: "no-decision";
      readonly at: number;
      readonly seq: number;
      readonly node: SimNode;
      /** The peer that answered. */
      readonly peer: string;
    };

export class SimulatedNetwork {
  readonly nodes: SimNode[] = [];
  now = 0;
  readonly #contract: Contract;
  readonly #prng: Prng;
  /** Sync's own stream (its targets, losses, delays), apart from gossip's. */
  readonly #syncPrng: Prng;
  readonly #delay: { min: number; max: number };
  readonly #loss: number;
  readonly #cpuPerMessageMs: number;
  readonly #factory: MachineFactory;
  readonly #verify: ((message: WireMessage) => boolean) | undefined;
  readonly #observer: ((event: NetworkEvent) => void) | undefined;
  readonly #linkUpDelay: { readonly fraction: number; readonly maxMs: number } | undefined;
  readonly #syncAnswerCap: number | undefined;
  readonly #syncServeMs: number;
  /** Who forwards to whom; null: broadcast. */
  readonly #mesh: GossipMesh | null;
  /** Deliveries and ticks, ordered by (time, seq). */
  readonly #queue = new EventQueue<Queued>();
  #seq = 0;
  /** Nodes that cannot reach each other: group per node name, absent = reachable by all. */
  #partition: Map<string, string> | null = null;
  /** Agents whose machines tell the truth: every one started without `misreport`. */
  readonly #honest = new Set<string>();
  /** Names of the simulated nodes, to tell their messages from injected ones. */
  readonly #names = new Set<string>();
  /** Each simulated node's key by name: the peer id a receiver sees a gossiped message come from. */
  readonly #keys = new Map<string, AgentId>();
  readonly #bootstrapReach = new BootstrapReach<SimNode>();

  constructor(options: SimulatedNetworkOptions) {
    this.#contract = options.contract;
    this.#prng = createPrng(options.seed);
    this.#syncPrng = createPrng((options.seed ^ SYNC_STREAM) >>> 0);
    this.#delay = options.delay ?? { min: 1, max: 20 };
    this.#loss = options.loss ?? 0;
    this.#cpuPerMessageMs = options.cpuPerMessageMs ?? 0;
    this.#factory = options.machineFactory ?? buildMachine;
    this.#verify = options.verify;
    this.#observer = options.observer;
    this.#linkUpDelay = options.linkUp;
    this.#syncAnswerCap = options.syncAnswerCap;
    this.#syncServeMs = options.syncServeMs ?? 0;
    this.#mesh = options.mesh
      ? new GossipMesh(options.mesh, createPrng((options.seed ^ MESH_STREAM) >>> 0))
      : null;
    if (this.#mesh) this.#enqueue({ kind: "heartbeat", at: MESH_HEARTBEAT_MS, seq: this.#seq++ });
  }

  /** The contract every node runs (with the allowlist a schedule writes into it). */
  get contract(): Contract {
    return this.#contract;
  }

  /** A 32-byte seed from the network's PRNG, so runs are reproducible. */
  newSigner(): Signer {
    const seed = new Uint8Array(32);
    for (let i = 0; i < 32; i++) seed[i] = Math.floor(this.#prng() * 256);
    return createSigner(seed);
  }

  /**
   * Starts an agent now. The first node started is the founder unless `role` says otherwise.
   * `misreport`: FAULT INJECTION, makes this agent a lying member (see AgentMachineConfig).
   * `twin`: FAULT INJECTION, makes this agent an equivocator (see SimNode.twin).
   * `bootstrap`: the nodes a joiner was started with as bootstrap nodes, by name; the founder
   * unless given, as the Compose file starts joiners.
   */
  addAgent(
    name: string,
    profile: AgentProfile,
    signer: Signer = this.newSigner(),
    role?: MachineRole,
    misreport?: (demand: Demand, round: number, unitPrice: number) => Demand,
    twin?: (message: WireMessage) => WireMessage | null,
    bootstrap?: readonly string[],
  ): SimNode {
    const r = role ?? this.#defaultRole();
    if (!misreport && !twin) this.#honest.add(signer.id);
    return this.#add(
      name,
      signer.id,
      signer.id,
      r,
      this.#machine(r, { signer, profile }, misreport),
      twin ?? null,
      bootstrap,
    );
  }

  /** A node without an agent: it follows and verifies. A founding observer gets a key to sign with. */
  addObserver(name: string, role: MachineRole = "joiner"): SimNode {
    const signer = role === "founder" ? this.newSigner() : undefined;
    return this.#add(
      name,
      null,
      signer?.id ?? null,
      role,
      this.#machine(role, signer ? { signer } : undefined),
    );
  }

  /** The first node started founds the market, as the one started without bootstrap peers does. */
  #defaultRole(): MachineRole {
    return this.nodes.some((n) => n.role === "founder") ? "joiner" : "founder";
  }

  /** A joiner started as the Compose file starts one: bootstrapping from the (first) founder. */
  #founderBootstrap(role: MachineRole): string[] {
    const founder = this.nodes.find((n) => n.role === "founder" && n.key !== null);
    return role === "joiner" && founder ? [founder.name] : [];
  }

  #machine(
    role: MachineRole,
    key?: { signer: Signer; profile?: AgentProfile },
    misreport?: (demand: Demand, round: number, unitPrice: number) => Demand,
  ): AgentMachine {
    return this.#factory({
      ...(misreport ? { misreport } : {}),
      contract: this.#contract,
      now: this.now,
      role,
      ...(key?.signer ? { signer: key.signer } : {}),
      ...(key?.profile ? { profile: key.profile } : {}),
      ...(this.#verify ? { verify: this.#verify } : {}),
    });
  }

  #add(
    name: string,
    id: AgentId | null,
    key: AgentId | null,
    role: MachineRole,
    machine: AgentMachine,
    twin: SimNode["twin"] = null,
    bootstrap: readonly string[] = this.#founderBootstrap(role),
  ): SimNode {
    const node: SimNode = {
      name,
      id,
      key,
      role,
      bootstrap,
      machine,
      store: [],
      convicted: [],
      up: true,
      rejected: 0,
      slowMs: 0,
      deaf: false,
      unlinked: false,
      tickAt: Number.POSITIVE_INFINITY,
      busyUntil: 0,
      held: this.#heldReferences(),
      seen: new SeenCache(SEEN_TTL_MS),
      twin,
      ...this.#syncClient(),
    };
    this.#mesh?.joined(
      name,
      this.nodes.filter((n) => n.up).map((n) => n.name),
    );
    this.nodes.push(node);
    this.#names.add(name);
    if (key) this.#keys.set(name, key);
    const linkAt = this.#drawLinkUp();
    if (linkAt === null) this.#observer?.({ type: "start", at: this.now, node });
    else {
      node.unlinked = true;
      this.#observer?.({ type: "start", at: this.now, node, linkAt });
      this.#enqueue({ kind: "link-up", at: linkAt, seq: this.#seq++, node });
    }
    this.#bootstrapReach.started(node, node.bootstrap);
    this.#reachBootstraps();
    this.#scheduleTick(node);
    this.#linkLoneTo(node);
    return node;
  }

  /**
   * Reachability changed (a start, a restart, a link-up, a partition or its heal): each process
   * learns the key of each of its bootstrap nodes it reaches for the first time, as a live node's
   * machine does at its first connection to that address (machine/bootstrap-peers.ts;
   * bootstrap-reach.ts for what "reaches" stands for here).
   */
  #reachBootstraps(): void {
    this.#bootstrapReach.reach(
      (node) => node.up,
      (node, name) => {
        const peer = this.node(name);
        if (peer && peer.key === null) return "keyless";
        return peer && this.#reachable(node, peer) ? "reached" : null;
      },
      (node, name) => this.#tellBootstrap(node, this.node(name) as SimNode),
    );
  }

  /**
   * The machine acts on nothing in the key itself, but a handle drains what `check` left pending
   * (an equivocation proof a rejected message gave, its relays, a log): told at a start, as when
   * only the founder's key was told, nothing is pending; told later, it may be, and the node
   * carries it out now as the live node's driver does with whatever an event returns.
   */
  #tellBootstrap(node: SimNode, peer: SimNode): void {
    this.#observer?.({ type: "bootstrap-peer", at: this.now, node, peer });
    this.act(node, (now) => ({ type: "bootstrap-peer", now, peer: peer.key as AgentId }));
  }

  /** When a node started now links to its first peers, or null: it has them from the start. */
  #drawLinkUp(): number | null {
    const l = this.#linkUpDelay;
    if (!l || this.#prng() >= l.fraction) return null;
    return this.now + this.#prng() * l.maxMs;
  }

  /**
   * Discovery found `node` its first peers. Both sides of each new link learn it the way they
   * would on the live node: the node itself (`linked`, it repeats its join), and any node that
   * was alone until now. A node that crashed or restarted meanwhile is not this one any more.
   */
  #linkUp(node: SimNode): void {
    if (!node.up || !node.unlinked) return;
    const lone = this.#peerless();
    node.unlinked = false;
    this.#observer?.({ type: "link-up", at: this.now, node });
    this.#reachBootstraps();
    if (this.#peerless().has(node)) return; // alone in its partition: linked at the heal
    this.#linked(node);
    this.#linkAgain(lone);
  }

  /** The node of that name now (a restart replaces the object). */
  node(name: string): SimNode | undefined {
    return this.nodes.find((n) => n.name === name);
  }

  /** Stop delivering to and from a node (a crash); its store survives, as on disk. */
  crash(node: SimNode): void {
    node.up = false;
    this.#observer?.({ type: "crash", at: this.now, node });
  }

  /** A restart on the same store: a fresh machine replays what was stored, then resumes. */
  restart(node: SimNode, profile: AgentProfile, signer: Signer): SimNode {
    const machine = this.#machine(node.role, { signer, profile });
    // The old process is gone: nothing it had pending (ticks, deliveries) may reach it.
    node.up = false;
    const revived: SimNode = {
      ...node,
      machine,
      store: node.store,
      up: true,
      rejected: 0,
      // A restart is not a new node: it finds its peers as restarts always have.
      unlinked: false,
      tickAt: Number.POSITIVE_INFINITY,
      held: this.#heldReferences(),
      // A new process: its gossipsub has seen nothing yet, its sync client has asked nothing.
      seen: new SeenCache(SEEN_TTL_MS),
      ...this.#syncClient(),
    };
    this.nodes[this.nodes.indexOf(node)] = revived;
    this.#mesh?.joined(
      revived.name,
      this.nodes.filter((n) => n.up && n !== revived).map((n) => n.name),
    );
    const replayed: MachineAction[] = [];
    if (node.convicted.length > 0)
      replayed.push(...machine.handle({ type: "convicted", now: this.now, proofs: node.convicted }));
    for (const m of node.store)
      if (machine.check(m).verdict === "accept")
        replayed.push(...machine.handle({ type: "message", now: this.now, message: m, replay: true }));
    const actions = machine.handle({ type: "resume", now: this.now });
    this.#carryOut({ type: "restart", at: this.now, node: revived, replayed, actions });
    this.#bootstrapReach.started(revived, revived.bootstrap);
    this.#reachBootstraps();
    this.#scheduleTick(revived);
    this.#linkLoneTo(revived);
    return revived;
  }

  /** A graceful stop: the node announces it, stays to help decide the epoch without it, then goes (`left`). */
  leave(node: SimNode): void {
    const actions = node.machine.handle({ type: "leave", now: this.now });
    this.#carryOut({ type: "leave", at: this.now, node, actions });
    this.#scheduleTick(node);
  }

  /**
   * An event for the node's machine other than a message or a tick, now: from its operator (a new
   * bid, an amendment, an approval) or from its network layer (a commit reference on another body).
   */
  act(node: SimNode, event: (now: number) => MachineEvent): void {
    const actions = node.machine.handle(event(this.now));
    this.#carryOut({ type: "tick", at: this.now, node, actions });
    this.#scheduleTick(node);
  }

  /** Everything `node` sends from now on takes `ms` longer (0: back to normal). */
  slow(node: SimNode, ms: number): void {
    node.slowMs = ms;
    this.#observer?.({ type: "slow", at: this.now, node, ms });
  }

  /** Nothing sent to `node` from now on (gossip or sync) reaches it; everything it sends goes out. */
  deafen(node: SimNode, deaf: boolean): void {
    node.deaf = deaf;
    this.#observer?.({ type: "deaf", at: this.now, node, deaf });
  }

  /**
   * FAULT INJECTION: `node` re-sends `count` messages drawn from its store (mostly old ones: the
   * store grows), each to a random half of the peers it reaches, byte for byte ("replay") or
   * garbled under its old signature ("forge"). A crashed node sends nothing.
   */
  resend(node: SimNode, count: number, act: "replay" | "forge"): void {
    if (!node.up || node.store.length === 0) return;
    for (let i = 0; i < count; i++) {
      const stored = node.store[Math.floor(this.#prng() * node.store.length)] as WireMessage;
      const message = act === "forge" ? garbled(stored, this.#prng) : stored;
      const to = this.nodes.filter((p) => p !== node && this.#reachable(node, p) && this.#prng() < 0.5);
      this.#observer?.({ type: "byzantine", at: this.now, node, act, to: to.map((p) => p.name), message });
      for (const peer of to)
        this.#send(peer, node.name, "gossip", message, this.#randomDelay() + node.slowMs, act === "forge");
    }
  }

  /** Deliver a message from outside the simulated nodes (an attacker's) to every node that is up. */
  inject(message: WireMessage): void {
    for (const node of this.nodes)
      if (node.up) this.#send(node, "outside", "gossip", message, this.#randomDelay());
  }

  /** Deliver an outsider's message to one node now, if it is up (no delay drawn: the run keeps its draws). */
  injectTo(node: SimNode, message: WireMessage): void {
    if (node.up) this.#send(node, "outside", "gossip", message, 0);
  }

  /**
   * A message that an agent outside the simulated nodes publishes at `at` (not before now), sent to
   * every node that is up with the network's delays: the light agents of a reduced scale run.
   */
  publishAt(from: string, message: WireMessage, at: number): void {
    const wait = Math.max(0, at - this.now);
    for (const node of this.nodes)
      if (node.up) this.#send(node, from, "gossip", message, wait + this.#randomDelay());
  }

  /** Split the network; nodes are named, so a group may list nodes not started yet. */
  partition(groups: readonly (readonly { readonly name: string }[])[]): void {
    const lone = this.#peerless();
    this.#partition = new Map();
    groups.forEach((g, i) => {
      for (const n of g) this.#partition?.set(n.name, String(i));
    });
    this.#observer?.({ type: "partition", at: this.now, groups: groups.map((g) => g.map((n) => n.name)) });
    this.#reachBootstraps();
    this.#linkAgain(lone);
  }

  heal(): void {
    const lone = this.#peerless();
    this.#partition = null;
    this.#observer?.({ type: "heal", at: this.now });
    this.#reachBootstraps();
    this.#linkAgain(lone);
  }

  /** Up nodes that reach no other node: a live node with no peer on the membership topic. */
  #peerless(): Set<SimNode> {
    const byGroup = new Map<string | undefined, SimNode[]>();
    for (const n of this.nodes) {
      if (!n.up || n.unlinked) continue;
      const group = this.#partition?.get(n.name);
      const members = byGroup.get(group);
      if (members) members.push(n);
      else byGroup.set(group, [n]);
    }
    return new Set([...byGroup.values()].filter((g) => g.length === 1).flat());
  }

  /** Tells each node of `lone` that now reaches another that it has a peer again (`linked`). */
  #linkAgain(lone: ReadonlySet<SimNode>): void {
    const still = this.#peerless();
    for (const n of lone) if (n.up && !still.has(n)) this.#linked(n);
  }

  /**
   * `node` just came up: a node that reached no other until now has a peer. Stops at the second
   * reachable node found, so a network of thousands of starts stays linear.
   */
  #linkLoneTo(node: SimNode): void {
    const reachable: SimNode[] = [];
    for (const n of this.nodes) {
      if (n === node || !this.#reachable(node, n)) continue;
      reachable.push(n);
      if (reachable.length > 1) return;
    }
    const [other] = reachable;
    if (other) this.#linked(other);
  }

  #linked(node: SimNode): void {
    this.act(node, (now) => ({ type: "linked", now }));
  }

  #syncOutcome(node: SimNode, answered: boolean, timeoutMs: number): void {
    if (!node.up) return; // crashed or left since it asked (a restart replaces the object)
    this.act(node, (now) => ({ type: "sync-ended", now, answered, timeoutMs }));
  }

  #noDecision(node: SimNode, peer: string): void {
    if (!node.up) return; // crashed since it asked (a restart replaces the object)
    this.act(node, (now) => ({ type: "no-decision", now, peer }));
  }

  /** Whether `a` and `b` reach each other now: both up and linked, on one side of any partition. */
  reaches(a: SimNode, b: SimNode): boolean {
    return this.#reachable(a, b);
  }

  #reachable(a: SimNode, b: SimNode): boolean {
    if (!a.up || !b.up || a.unlinked || b.unlinked) return false;
    const p = this.#partition;
    return !p || p.get(a.name) === p.get(b.name);
  }

  /** Run until `done` holds or `limitMs` of virtual time pass; returns whether `done` held. */
  runUntil(done: () => boolean, limitMs: number): boolean {
    const end = this.now + limitMs;
    for (;;) {
      if (done()) return true;
      if (!this.#step(end)) return done();
    }
  }

  /** Process every event due up to `time`, then set the clock to it. */
  advanceTo(time: number): void {
    while (this.#step(time));
  }

  /** One event due by `end`; false (and the clock at `end`) when there is none. */
  #step(end: number): boolean {
    const next = this.#queue.peek();
    if (!next || next.at > end) {
      this.now = Math.max(this.now, end);
      return false;
    }
    this.#queue.pop();
    this.now = Math.max(this.now, next.at);
    if (next.kind === "deliver") this.#deliver(next);
    else if (next.kind === "arrive") this.#arrive(next);
    else if (next.kind === "link-up") this.#linkUp(next.node);
    else if (next.kind === "heartbeat") this.#heartbeat();
    else if (next.kind === "no-decision") this.#noDecision(next.node, next.peer);
    else if (next.kind === "sync-outcome") this.#syncOutcome(next.node, next.answered, next.timeoutMs);
    else if (next.kind === "sync-end") this.#syncEnd(next);
    else this.#tick(next.node, next.at);
    return true;
  }

  /** gossipsub's heartbeat at every node: links to nodes down dropped, a thin mesh grafted. */
  #heartbeat(): void {
    const mesh = this.#mesh as GossipMesh;
    for (const n of this.nodes) if (!n.up) mesh.down(n.name);
    for (const n of this.nodes) {
      if (!n.up || n.unlinked) continue;
      mesh.maintain(
        n.name,
        this.nodes.filter((p) => p !== n && this.#reachable(n, p)).map((p) => p.name),
      );
    }
    this.#enqueue({ kind: "heartbeat", at: this.now + MESH_HEARTBEAT_MS, seq: this.#seq++ });
  }

  #tick(node: SimNode, at: number): void {
    if (!node.up || node.tickAt !== at) return; // superseded by an earlier deadline, or crashed
    node.tickAt = Number.POSITIVE_INFINITY;
    const actions = node.machine.handle({ type: "tick", now: this.now });
    this.#carryOut({ type: "tick", at: this.now, node, actions });
    this.#scheduleTick(node);
    this.#releaseHeld(node);
  }

  /** Keep one pending tick per node, at the earliest deadline its machine has named. */
  #scheduleTick(node: SimNode): void {
    if (!node.up) return;
    const at = Math.max(this.now, node.machine.nextDeadline());
    if (at >= node.tickAt) return;
    node.tickAt = at;
    this.#enqueue({ kind: "tick", at, seq: this.#seq++, node });
  }

  /** A message reached a node whose CPU is modelled: it is handled once the node is free. */
  #arrive(item: InFlight): void {
    const node = item.to;
    if (!node.up) return;
    node.busyUntil = Math.max(this.now, node.busyUntil) + this.#cpuPerMessageMs;
    this.#enqueue({ ...item, kind: "deliver", at: node.busyUntil, seq: this.#seq++ });
  }

  /** As the node's inbound pipeline holds them. */
  #heldReferences(): HeldCommitReferences<HeldFrom> {
    return heldCommitReferences(this.#contract.timeouts.roundMs);
  }

  /**
   * A gossiped commit travels as a reference to its body (docs/protocol.md §8): usable only by a
   * node that settled the epoch on that body. One that has not settled holds it; one that settled
   * on another body drops it and tells its machine, which asks for the commit whole (sync).
   */
  #usable(node: SimNode, item: InFlight): boolean {
    const m = item.message;
    if (item.via !== "gossip" || m.kind !== "commit") return true;
    const body = node.machine.committedBody(m.epoch);
    if (!body) {
      node.held.hold(commitReference(m), { from: item.from, forged: item.forged === true }, this.now);
      return false;
    }
    if (commitBodyDigest(body) === commitMessageBodyDigest(m)) return true;
    this.#otherBody(node, m.epoch, m.agent);
    return false;
  }

  #otherBody(node: SimNode, epoch: number, agent: AgentId): void {
    this.act(node, (now) => ({ type: "other-body", now, epoch, agent }));
  }

  /** The message just handled may have settled an epoch: its held commits are delivered now. */
  #releaseHeld(node: SimNode): void {
    if (node.held.size === 0) return;
    const released = node.held.release(
      (e) => node.machine.committedBody(e),
      this.now,
      (reference) => this.#otherBody(node, reference.epoch, reference.agent),
    );
    for (const { commit, item: held } of released)
      this.#enqueue({
        kind: "deliver",
        at: this.now,
        seq: this.#seq++,
        to: node,
        from: held.from,
        via: "gossip",
        message: commit,
        ...(held.forged ? { forged: true } : {}),
        released: true,
      });
  }

  #deliver(item: InFlight): void {
    const node = item.to;
    if (!node.up) return;
    // Through gossipsub now (not sync, not a held reference let out): with a mesh it drops an id
    // it has seen before any validation, and forwards what the node vouches for.
    const meshed = this.#mesh !== null && item.via === "gossip" && item.released !== true;
    if (meshed && node.seen.has(messageDigest(item.message), this.now)) return;
    // gossipsub puts an id in its seen cache before validation, whatever the verdict.
    if (item.via === "gossip") node.seen.add(messageDigest(item.message), this.now);
    if (!this.#usable(node, item)) return;
    const from = this.#keys.get(item.from);
    const verdict = node.machine.check(
      item.message,
      item.via === "gossip" ? { gossip: true, ...(from ? { from } : {}) } : {},
    );
    if (verdict.verdict === "reject") node.rejected += 1;
    if (meshed && forwards(verdict)) this.#forward(node, item);
    let actions: MachineAction[] = [];
    if (verdict.verdict === "accept") {
      node.store.push(item.message);
      actions = node.machine.handle({ type: "message", now: this.now, message: item.message });
    }
    this.#carryOut({
      type: "deliver",
      at: this.now,
      node,
      from: item.from,
      via: item.via,
      message: item.message,
      verdict,
      honestAuthor: item.forged !== true && this.#fromHonest(item),
      forged: item.forged === true,
      actions,
    });
    this.#scheduleTick(node);
    this.#releaseHeld(node);
  }

  /**
   * gossipsub forwards a message the node's validator accepted to its mesh neighbours but the peer
   * it came from, each copy delayed and lost as a delivery is, later for a slow node.
   */
  #forward(node: SimNode, item: InFlight): void {
    for (const peer of this.#gossipPeers(node, item.message.kind, false, item.from)) {
      if (this.#prng() < this.#loss) continue;
      this.#send(
        peer,
        node.name,
        "gossip",
        item.message,
        this.#randomDelay() + node.slowMs,
        item.forged === true,
      );
    }
  }

  /**
   * Whom `node`'s gossip sends a message of `kind` to. Broadcast: every peer it reaches. With a
   * mesh: its mesh neighbours it reaches, but `except` (the peer a forwarded message came from);
   * when `publishing` (its own publish or relay) a kind it flood-publishes, every peer it reaches.
   */
  #gossipPeers(node: SimNode, kind: MessageKind, publishing: boolean, except?: string): SimNode[] {
    const mesh = this.#mesh;
    const everyone = mesh === null || (publishing && floodsOnPublish(kind));
    return this.nodes.filter(
      (p) =>
        p !== node &&
        p.name !== except &&
        this.#reachable(node, p) &&
        (everyone || mesh.linked(node.name, p.name)),
    );
  }

  /** Relayed by a simulated node (not injected, nor a light agent's), signed by an honest agent. */
  #fromHonest(item: InFlight): boolean {
    return this.#names.has(item.from) && this.#honest.has(item.message.agent);
  }

  /**
   * Reports `event` and carries out its node's actions. The node's gossipsub decides first what it
   * will not send, and the observer is told that decision (`unsent`), which #perform then acts on.
   */
  #carryOut(event: ActingEvent): void {
    const gossiped = this.#gossipsub(event.node, event.actions);
    this.#observer?.({ ...event, unsent: gossiped.unsent });
    this.#perform(event.node, event.actions, gossiped);
  }

  /**
   * What `node`'s gossipsub makes of `actions`, taken in their order before any is sent (sending
   * touches no seen cache, so this is the order gossipsub meets them in): a publish enters its seen
   * cache, an equivocator's twin with it; a relay of an id the cache holds is not sent (protocol
   * §5.1: of an equivocation proof's two versions, only one this node first got by sync goes out,
   * so a proof travels about one hop), and one that is sent enters it.
   */
  #gossipsub(node: SimNode, actions: readonly MachineAction[]): Gossiped {
    const twins = new Map<number, WireMessage>();
    const unsent = new Set<number>();
    for (const [i, a] of actions.entries()) {
      if (a.type === "publish") {
        node.seen.add(messageDigest(a.message), this.now);
        const twin = node.twin?.(a.message) ?? null;
        if (twin === null) continue;
        twins.set(i, twin);
        node.seen.add(messageDigest(twin), this.now);
      } else if (a.type === "relay") {
        const digest = messageDigest(a.message);
        if (node.seen.has(digest, this.now)) unsent.add(i);
        else node.seen.add(digest, this.now);
      }
    }
    return { twins, unsent };
  }

  #perform(node: SimNode, actions: readonly MachineAction[], gossiped: Gossiped): void {
    for (const [i, a] of actions.entries()) {
      if (a.type === "publish") {
        node.store.push(a.message);
        const twin = gossiped.twins.get(i) ?? null;
        const twinned: string[] = [];
        for (const peer of this.#gossipPeers(node, a.message.kind, true)) {
          if (this.#prng() < this.#loss) continue;
          // An equivocator sends each peer one of its two messages for the slot, at random.
          const second = twin !== null && this.#prng() < 0.5;
          if (second) twinned.push(peer.name);
          this.#send(peer, node.name, "gossip", second ? twin : a.message, this.#randomDelay() + node.slowMs);
        }
        if (twin !== null)
          this.#observer?.({
            type: "byzantine",
            at: this.now,
            node,
            act: "equivocate",
            to: twinned,
            message: twin,
          });
      } else if (a.type === "relay") {
        // An equivocation proof's version, as gossip carries it (published as the node's own,
        // whatever its kind: flooded or to the mesh), not stored.
        if (gossiped.unsent.has(i)) continue;
        for (const peer of this.#gossipPeers(node, a.message.kind, true)) {
          if (this.#prng() < this.#loss) continue;
          this.#send(peer, node.name, "gossip", a.message, this.#randomDelay() + node.slowMs);
        }
      } else if (a.type === "sync") {
        this.#sync(node, a.want);
      } else if (a.type === "left") {
        node.up = false;
      } else if (a.type === "convicted") {
        const agent = a.proof[0].agent;
        if (node.convicted.some(([first]) => first.agent === agent)) continue;
        node.convicted.push(a.proof);
        if (node.convicted.length > MAX_CONVICTED) node.convicted.shift();
      }
    }
  }

  /** A new process's sync client: nothing in flight or in line, every peer fresh. */
  #syncClient(): Pick<SimNode, "sync" | "syncPending"> {
    return {
      sync: createSyncQueue({ random: this.#syncPrng, timeouts: this.#contract.timeouts }),
      syncPending: new Map(),
    };
  }

  /** The peers `node` reaches, by id, in random order (drawn when a catch-up starts, as the node does). */
  #syncPeers(node: SimNode): Map<string, SimNode> {
    const peers = new Map<string, SimNode>();
    for (const p of this.nodes) if (p !== node && this.#reachable(node, p)) peers.set(p.id ?? p.name, p);
    return peers;
  }

  /**
   * A sync want, as the node's sync client takes it (machine/sync-queue.ts): merged into an
   * identical one in flight, in line while four run or no peer may be asked, else asked of the
   * peers syncTargets picks among those it reaches that have none of its requests in flight and
   * are not cooling off.
   */
  #sync(node: SimNode, want: SyncWant): void {
    this.#start(node, (peers) => node.sync.want(want, this.now, peers));
  }

  /** Asks what `starts` gives of the peers `node` reaches, in an order drawn for each start. */
  #start(node: SimNode, starts: (peers: () => readonly string[]) => readonly SyncStart[]): void {
    const peers = this.#syncPeers(node);
    for (const s of starts(() => shuffled(this.#syncPrng, [...peers.keys()]))) this.#ask(node, s, peers);
  }

  /**
   * Each target answers on its own. A request or its answer is lost as a gossip delivery is (the
   * whole answer: one stream), an empty one too, and so is an answer to a node that hears nothing:
   * the asker notices only at the request timeout, when the peer cools off. An answer later than
   * the timeout is one the asker gave up on. Drawn from the sync stream, so gossip's draws do not
   * hang on how many asks there were.
   */
  #ask(node: SimNode, s: SyncStart, peers: ReadonlyMap<string, SimNode>): void {
    node.syncPending.set(s.key, s.targets.length);
    for (const target of s.targets) {
      const peer = peers.get(target) as SimNode;
      node.sync.load.started(target);
      const lost = this.#syncPrng() < this.#loss || node.deaf;
      const serve = this.#syncServeMs > 0 ? this.#syncPrng() * this.#syncServeMs : 0;
      const delay = this.#randomDelay(this.#syncPrng) * 2 + peer.slowMs + serve;
      const timeoutMs = node.sync.requestTimeoutMs(s.want.type);
      const answered = !lost && delay < timeoutMs;
      const at = this.now + (answered ? delay : timeoutMs);
      if (s.want.type === "messages")
        this.#enqueue({ kind: "sync-outcome", at, seq: this.#seq++, node, answered, timeoutMs });
      if (answered) this.#answer(node, peer, s.want, delay);
      this.#enqueue({
        kind: "sync-end",
        at,
        seq: this.#seq++,
        node,
        key: s.key,
        peer: target,
        outcome: answered ? "answered" : "timed-out",
        type: s.want.type,
        ms: answered ? delay : timeoutMs,
      });
    }
  }

  /** A request ended; once its catch-up's last one has, the wants in line that may go now start. */
  #syncEnd(end: Extract<Queued, { kind: "sync-end" }>): void {
    const node = end.node;
    if (!node.up) return; // crashed or left since it asked (a restart replaces the object)
    node.sync.load.finished(end.peer, end.outcome, this.now);
    // After the answer's messages and the machine's `sync-ended`, where the node times it before
    // either: a want those messages make at that instant waits by the timer before this answer
    // here (kept so, since moving the peer load's update would move every seed's run).
    if (end.outcome === "answered") node.sync.answered(end.type, end.ms);
    const left = (node.syncPending.get(end.key) ?? 1) - 1;
    if (left > 0) {
      node.syncPending.set(end.key, left);
      return;
    }
    node.syncPending.delete(end.key);
    this.#start(node, (peers) => node.sync.ended(end.key, this.now, peers));
  }

  /** `peer`'s answer to `node`'s `want`, arriving after `delay` in its order, as over one stream. */
  #answer(node: SimNode, peer: SimNode, want: SyncWant, delay: number): void {
    if (want.type === "decision") {
      const answer =
        want.epoch === null
          ? [...peer.machine.exclusionPlans(), ...(peer.machine.decisionEvidence(null) ?? [])]
          : decisionsFrom(peer.store, want.epoch);
      for (const m of answer) this.#send(node, peer.name, "sync", m, delay);
      // An empty answer to a request for the current decision, as the node's sync client tells
      // its machine (not to a deaf node: nothing reaches it).
      if (want.epoch === null && answer.length === 0 && !node.deaf && !node.unlinked)
        this.#enqueue({ kind: "no-decision", at: this.now + delay, seq: this.#seq++, node, peer: peer.name });
      return;
    }
    // As a node's request: the agents it names, if any, and the answer holds only theirs, cut
    // where the node's client stops following pages.
    for (const m of syncAnswer(peer.store, want, this.#syncAnswerCap))
      this.#send(node, peer.name, "sync", m, delay);
  }

  #send(
    to: SimNode,
    from: string,
    via: "gossip" | "sync",
    message: WireMessage,
    delay: number,
    forged = false,
  ): void {
    if (to.deaf || to.unlinked) return;
    const kind = this.#cpuPerMessageMs > 0 ? "arrive" : "deliver";
    this.#enqueue({
      kind,
      at: this.now + delay,
      seq: this.#seq++,
      to,
      from,
      via,
      message,
      ...(forged ? { forged } : {}),
    });
  }

  #enqueue(item: Queued): void {
    this.#queue.push(item);
  }

  /** One delivery's delay, drawn from `prng` (gossip's stream unless given sync's). */
  #randomDelay(prng: Prng = this.#prng): number {
    return this.#delay.min + prng() * (this.#delay.max - this.#delay.min);
  }
}
