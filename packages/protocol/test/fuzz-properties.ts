import fc from "fast-check";
import type { AgentProfile } from "../src/economics/agent.ts";
import { paperProfiles } from "../src/economics/paper-scenario.ts";
import { type AgentMachine, createAgentMachine } from "../src/machine/agent-machine.ts";
import type { MachineAction } from "../src/machine/machine-io.ts";
import { type SimNode, SimulatedNetwork } from "../src/sim/simulated-network.ts";
import { createSigner, type Signer } from "../src/wire/agent-key.ts";
import { canonicalJson } from "../src/wire/canonical-json.ts";
import { type Certificate, certificateDigest, verifyCertificate } from "../src/wire/certificate.ts";
import { type Contract, contractId, contractSchema } from "../src/wire/contract.ts";
import { decodeMessage, encodeMessage, MAX_MESSAGE_BYTES, messageDigest } from "../src/wire/message-codec.ts";
import { PROTOCOL_VERSION, slotOf, type Unsigned, type WireMessage } from "../src/wire/messages.ts";
import { signMessage, verifyMessage } from "../src/wire/signing.ts";
import { edgeMarkets } from "./edge-markets.ts";

/**
 * Fuzzing properties shared by the short CI run (*.fuzz.test.ts) and the long one (bench/fuzz.ts).
 * Each property throws on a violation; fast-check shrinks and reports the counterexample.
 */

export const fuzzContract: Contract = contractSchema.parse({
  name: "fuzz",
  resources: [{ id: "capacity", capacity: 5 }],
  fees: { perUnit: 0.5, fixed: 0 },
  minMembers: 3,
  timeouts: { roundMs: 1000, announceMs: 100 },
});
const R = 1;
const id = contractId(fuzzContract);

const signers: Signer[] = [1, 2, 3, 4].map((n) => createSigner(new Uint8Array(32).fill(n)));
const fuzzProfiles = paperProfiles(3, 5);

/**
 * A corpus of genuine messages: every message the nodes of a simulated 3-agent market signed on
 * the way to a certificate (joins, proposals, demands, votes, commits), plus a leave.
 */
export const corpus: readonly WireMessage[] = (() => {
  const net = new SimulatedNetwork({ contract: fuzzContract, seed: 3 });
  const nodes = fuzzProfiles.map((p, i) => net.addAgent(`n${i}`, p, signers[i]));
  net.runUntil(() => nodes.every((n) => n.machine.status().certificate !== null), 60_000);
  const all = new Map<string, WireMessage>();
  for (const n of nodes) for (const m of n.store) all.set(messageDigest(m), m);
  net.leave(nodes[2] as SimNode);
  for (const m of (nodes[2] as SimNode).store) all.set(messageDigest(m), m);
  return [...all.values()];
})();

// ---- arbitraries --------------------------------------------------------------------------

const nonNegative = fc.double({ min: 0, max: 1e12, noNaN: true }).map((v) => (v === 0 ? 0 : v));
const slope = fc.double({ min: -1e12, max: 0, noNaN: true }).map((v) => (v === 0 ? 0 : v));
const bounded = fc.double({ min: -1e12, max: 1e12, noNaN: true }).map((v) => (v === 0 ? 0 : v));
const counter = fc.nat({ max: 1_000_000 });
const vector = (n: number, of: fc.Arbitrary<number>) => fc.array(of, { minLength: n, maxLength: n });
const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);

/** A schema-valid, correctly signed message of any kind (not necessarily sensible). */
export const validMessage: fc.Arbitrary<WireMessage> = fc
  .tuple(fc.constantFrom(...signers), fc.constantFrom(id, "0".repeat(64)), fc.nat({ max: 9 }))
  .chain(([signer, contract, kind]) => {
    const head = { v: PROTOCOL_VERSION, contract, agent: signer.id };
    const members = fc.uniqueArray(fc.constantFrom(...signers.map((s) => s.id)), {
      minLength: 1,
      maxLength: 4,
    });
    const sorted = members.map((ms) => [...ms].sort());
    const plan = fc.record({
      members: sorted,
      deciders: sorted,
      voters: sorted,
      base: fc.option(fc.record({ epoch: counter, round: counter, prices: vector(R, nonNegative) })),
      terms: fc.constant(null),
      ledger: fc.option(hex64),
      cause: fc.subarray(["join", "leave", "silence", "rebid", "period", "amend"], { minLength: 1 }),
    });
    const body: fc.Arbitrary<Record<string, unknown>> = [
      fc.record({
        kind: fc.constant("demand"),
        epoch: counter,
        round: counter,
        prices: vector(R, nonNegative),
        x: nonNegative,
        slope,
        footprint: vector(R, bounded),
      }),
      members.chain((ms) =>
        fc.record({
          kind: fc.constant("commit"),
          epoch: counter,
          round: counter,
          members: fc.constant(ms),
          prices: vector(R, nonNegative),
          allocations: fc.tuple(
            ...ms.map((agent) =>
              fc.record({ agent: fc.constant(agent), x: nonNegative, footprint: vector(R, bounded) }),
            ),
          ),
          residual: nonNegative,
          previous: fc.option(hex64),
        }),
      ),
      fc.record({ kind: fc.constant("join"), epoch: counter, seq: counter }),
      fc.record({ kind: fc.constant("leave"), epoch: counter }),
      fc.record({ kind: fc.constant("alive"), epoch: counter, seq: counter }),
      fc.record({ kind: fc.constant("propose"), epoch: counter, view: counter, plan }),
      fc.record({ kind: fc.constant("accept"), epoch: counter, view: counter, plan: hex64 }),
      fc.record({
        kind: fc.constant("view"),
        epoch: counter,
        view: counter,
        accepted: fc.option(fc.record({ view: counter, plan })),
      }),
      fc.record({ kind: fc.constant("rebid"), epoch: counter, seq: counter }),
      fc.record({ kind: fc.constant("approve"), epoch: counter, amendment: hex64 }),
    ][kind] as fc.Arbitrary<Record<string, unknown>>;
    return body.map((b) => signMessage({ ...head, ...b } as unknown as Unsigned<WireMessage>, signer));
  });

interface JsonEdit {
  readonly path: number;
  readonly op: string;
  readonly value: unknown;
  readonly key: string;
}

/** One JSON edit: a field replaced, removed or added, at the top level or one level down. */
const jsonEdit: fc.Arbitrary<JsonEdit> = fc.record({
  path: fc.nat({ max: 40 }),
  op: fc.constantFrom("replace", "remove", "add"),
  value: fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom(-1, 1e300, -0, 2 ** 53 + 1, "", "NaN", [], {}),
  ),
  key: fc.string({ maxLength: 8 }),
});

function applyEdit(message: WireMessage, edit: JsonEdit): unknown {
  const clone = JSON.parse(canonicalJson(message)) as Record<string, unknown>;
  const keys = Object.keys(clone);
  const key = keys[edit.path % keys.length] as string;
  if (edit.op === "remove") delete clone[key];
  else if (edit.op === "add") clone[edit.key] = edit.value;
  else {
    const inner = clone[key];
    if (Array.isArray(inner) && inner.length > 0) inner[edit.path % inner.length] = edit.value;
    else clone[key] = edit.value;
  }
  return clone;
}

/** Raw-byte corruption of an encoded message: flips, truncation, insertion, splicing. */
const byteEdit = fc.record({
  at: fc.nat(),
  op: fc.constantFrom("flip", "truncate", "insert", "duplicate"),
  byte: fc.integer({ min: 0, max: 255 }),
});

function applyByteEdit(bytes: Uint8Array, e: { at: number; op: string; byte: number }): Uint8Array {
  const i = e.at % Math.max(1, bytes.length);
  switch (e.op) {
    case "flip": {
      const out = new Uint8Array(bytes);
      out[i] = (out[i] as number) ^ (e.byte || 1);
      return out;
    }
    case "truncate":
      return bytes.subarray(0, i);
    case "insert":
      return Uint8Array.from([...bytes.subarray(0, i), e.byte, ...bytes.subarray(i)]);
    default:
      return Uint8Array.from([...bytes, ...bytes.subarray(i)]);
  }
}

// ---- invariants ---------------------------------------------------------------------------

function fail(msg: string): never {
  throw new Error(msg);
}

/** A decode result is well-formed; an accepted one re-encodes to exactly the bytes given. */
function checkDecode(bytes: Uint8Array): ReturnType<typeof decodeMessage> {
  const d = decodeMessage(bytes);
  if (d.ok) {
    const again = encodeMessage(d.message);
    if (Buffer.compare(Buffer.from(again), Buffer.from(bytes)) !== 0)
      fail("accepted bytes are not canonical");
  } else if (typeof d.detail !== "string" || !["oversize", "malformed", "schema"].includes(d.reason)) {
    fail(`bad decode result ${JSON.stringify(d)}`);
  }
  return d;
}

/** The actions of one handle() call keep the machine's promises. */
class MachineWatch {
  readonly #own = new Map<string, string>();
  readonly #signer: Signer | null;
  readonly #contract: Contract;
  constructor(contract: Contract, signer: Signer | null) {
    this.#contract = contract;
    this.#signer = signer;
  }

  /** A message of our own that the machine accepted: it must never sign another for that slot. */
  sawOwn(m: WireMessage): void {
    if (m.agent === this.#signer?.id) this.#remember(m);
  }

  actions(actions: readonly MachineAction[]): void {
    for (const a of actions) {
      if (a.type === "publish") {
        if (a.message.agent !== this.#signer?.id) fail("published a message signed as someone else");
        if (!verifyMessage(a.message)) fail("published a message whose signature does not verify");
        const d = decodeMessage(encodeMessage(a.message));
        if (!d.ok) fail(`published a message its own decoder rejects: ${d.detail}`);
        this.#remember(a.message);
      } else if (a.type === "certificate") {
        checkCertificate(a.certificate, this.#contract);
      } else if (a.type === "dropped" && a.message.agent === this.#signer?.id) {
        this.#own.delete(slotOf(a.message));
      }
    }
  }

  #remember(m: WireMessage): void {
    const slot = slotOf(m);
    const digest = messageDigest(m);
    const prior = this.#own.get(slot);
    if (prior !== undefined && prior !== digest) fail(`signed two different messages for ${slot}`);
    this.#own.set(slot, digest);
  }
}

function checkCertificate(cert: Certificate, contract: Contract): void {
  const check = verifyCertificate(cert, contract);
  if (!check.ok) fail(`certificate does not verify: ${check.error}`);
}

// ---- properties ---------------------------------------------------------------------------

/** Arbitrary bytes (including over the limit) never make the decoder throw. */
export const decodeArbitraryBytes = () =>
  fc.property(
    fc.oneof(
      { weight: 20, arbitrary: fc.uint8Array({ maxLength: 512 }) },
      {
        weight: 1,
        arbitrary: fc
          .integer({ min: MAX_MESSAGE_BYTES - 2, max: MAX_MESSAGE_BYTES + 2 })
          .map((n) => new Uint8Array(n).fill(0x20)),
      },
    ),
    (bytes) => {
      checkDecode(bytes);
    },
  );

/** Arbitrary JSON text (and JSON-like text with NaN/Infinity) never makes the decoder throw. */
export const decodeArbitraryJson = () =>
  fc.property(
    fc.oneof(
      fc.json({ maxDepth: 4 }),
      fc.jsonValue().map((v) => JSON.stringify(v).replace(/\d+(\.\d+)?/, "NaN")),
    ),
    (text) => {
      checkDecode(new TextEncoder().encode(text));
    },
  );

/** Valid messages round-trip bit for bit and their signatures verify. */
export const roundTripValidMessages = () =>
  fc.property(validMessage, (m) => {
    const bytes = encodeMessage(m);
    const d = checkDecode(bytes);
    if (!d.ok) fail(`valid message rejected: ${d.detail}`);
    if (canonicalJson(d.message) !== canonicalJson(m)) fail("round trip changed the message");
    if (!verifyMessage(d.message)) fail("round trip broke the signature");
  });

/**
 * A genuine message edited as JSON or corrupted as bytes: decode and check never throw, and an
 * edited message the decoder still takes is never accepted unless it is the original's twin.
 */
export const mutatedMessagesAreJudged = () => {
  const machine = createAgentMachine({ contract: fuzzContract, now: 0 });
  return fc.property(
    fc.constantFrom(...corpus),
    fc.oneof(
      jsonEdit.map((e) => ({ json: e })),
      byteEdit.map((e) => ({ bytes: e })),
    ),
    (original, edit) => {
      const bytes =
        "json" in edit
          ? new TextEncoder().encode(safeCanonical(applyEdit(original, edit.json)))
          : applyByteEdit(encodeMessage(original), edit.bytes);
      const d = checkDecode(bytes);
      if (!d.ok) return;
      const verdict = machine.check(d.message);
      // Only the untouched original (or a canonical twin of it) can carry a valid signature.
      if (verdict.verdict === "accept" && messageDigest(d.message) !== messageDigest(original))
        fail("accepted an edited message");
    },
  );
};

function safeCanonical(value: unknown): string {
  try {
    return canonicalJson(value);
  } catch {
    return JSON.stringify(value) ?? "null";
  }
}

type Step =
  | { type: "deliver"; index: number }
  | {
      type: "mutated";
      index: number;
      edit: JsonEdit;
    }
  | { type: "tick"; dt: number }
  | { type: "resume" }
  | { type: "leave" };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ type: fc.constant("deliver" as const), index: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({ type: fc.constant("mutated" as const), index: fc.nat(), edit: jsonEdit }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ type: fc.constant("tick" as const), dt: fc.integer({ min: 0, max: 3000 }) }),
  },
  { weight: 1, arbitrary: fc.constant({ type: "resume" as const }) },
  { weight: 1, arbitrary: fc.constant({ type: "leave" as const }) },
);

/**
 * One machine (agent 0, or an observer) fed the corpus in a random order, with random gaps,
 * duplicates, corrupted copies, restarts-from-replay and leaves: nothing throws, it never signs
 * two messages for one slot, every certificate it assembles verifies, and certificates agree.
 */
export const machineRandomEvents = () =>
  fc.property(fc.boolean(), fc.array(step, { minLength: 1, maxLength: 60 }), (observer, steps) => {
    const signer = observer ? null : (signers[0] as Signer);
    const watch = new MachineWatch(fuzzContract, signer);
    let now = 0;
    const make = () =>
      createAgentMachine({
        contract: fuzzContract,
        ...(signer ? { signer, profile: fuzzProfiles[0] as AgentProfile } : {}),
        now,
      });
    let machine: AgentMachine = make();
    // The node's store: every message it accepted or signed (own ones written before publishing).
    const accepted: WireMessage[] = [];
    const run = (actions: MachineAction[]) => {
      for (const a of actions) if (a.type === "publish") accepted.push(a.message);
      watch.actions(actions);
    };
    const deliver = (m: WireMessage) => {
      const v = machine.check(m);
      if (v.verdict !== "accept") return;
      accepted.push(m);
      watch.sawOwn(m);
      run(machine.handle({ type: "message", now, message: m }));
    };
    for (const s of steps) {
      switch (s.type) {
        case "deliver":
          deliver(corpus[s.index % corpus.length] as WireMessage);
          break;
        case "mutated": {
          const text = safeCanonical(applyEdit(corpus[s.index % corpus.length] as WireMessage, s.edit));
          const d = decodeMessage(new TextEncoder().encode(text));
          if (d.ok) deliver(d.message);
          break;
        }
        case "tick":
          now += s.dt;
          run(machine.handle({ type: "tick", now }));
          break;
        case "resume": {
          // A restart: a fresh machine replays what this one accepted, then resumes.
          machine = make();
          for (const m of accepted)
            if (machine.check(m).verdict === "accept")
              run(machine.handle({ type: "message", now, message: m, replay: true }));
          run(machine.handle({ type: "resume", now }));
          break;
        }
        case "leave":
          run(machine.handle({ type: "leave", now }));
          break;
      }
      machine.status();
    }
    for (const c of machine.certificates()) checkCertificate(c, fuzzContract);
  });

/**
 * Whole simulated markets under random loss, delays, a crash and a partition: no node signs two
 * messages for one slot, every certificate verifies, and no two certificates for one epoch differ.
 */
export const simulatedMarkets = () =>
  fc.property(
    fc.record({
      seed: fc.nat(),
      loss: fc.double({ min: 0, max: 0.3, noNaN: true }),
      maxDelay: fc.integer({ min: 1, max: 200 }),
      fault: fc.constantFrom("none", "crash", "partition"),
      faultAt: fc.integer({ min: 0, max: 2000 }),
    }),
    ({ seed, loss, maxDelay, fault, faultAt }) => {
      const net = new SimulatedNetwork({
        contract: fuzzContract,
        seed,
        loss,
        delay: { min: 1, max: maxDelay },
      });
      const ps = paperProfiles(4, seed);
      const nodes = ps.map((p, i) => net.addAgent(`n${i}`, p, signers[i]));
      net.runUntil(() => false, faultAt);
      if (fault === "crash") net.crash(nodes[3] as SimNode);
      if (fault === "partition") net.partition([nodes.slice(0, 3), nodes.slice(3)]);
      net.runUntil(() => false, 3000);
      net.heal();
      net.runUntil(() => false, 3000);
      const byEpoch = new Map<number, string>();
      for (const n of net.nodes) {
        const own = new Map<string, string>();
        for (const m of n.store) {
          if (m.agent !== n.id) continue;
          const prior = own.get(slotOf(m));
          if (prior !== undefined && prior !== messageDigest(m))
            fail(`${n.name} signed two messages for ${slotOf(m)}`);
          own.set(slotOf(m), messageDigest(m));
        }
        for (const c of n.machine.certificates()) {
          checkCertificate(c, fuzzContract);
          const digest = certificateDigest(c);
          const prior = byEpoch.get(c.commit.epoch);
          if (prior !== undefined && prior !== digest)
            fail(`conflicting certificates for epoch ${c.commit.epoch}`);
          byEpoch.set(c.commit.epoch, digest);
        }
      }
    },
  );

export interface FuzzCase {
  readonly name: string;
  readonly property: () => fc.IRawProperty<unknown>;
  /** Its share of a long run's cases: cheap properties get more. */
  readonly weight: number;
}

export const fuzzSuite: readonly FuzzCase[] = [
  { name: "decode arbitrary bytes", property: decodeArbitraryBytes, weight: 40 },
  { name: "decode arbitrary JSON", property: decodeArbitraryJson, weight: 30 },
  { name: "valid messages round-trip", property: roundTripValidMessages, weight: 10 },
  { name: "mutated messages judged", property: mutatedMessagesAreJudged, weight: 18 },
  { name: "machine, random event orders", property: machineRandomEvents, weight: 2 },
  { name: "simulated markets with faults", property: simulatedMarkets, weight: 0.02 },
  { name: "markets at the input bounds", property: edgeMarkets, weight: 0.05 },
];
