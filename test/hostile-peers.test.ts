import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type GossipKind, loadOrCreateKey, type WalrasNode } from "@walras/node";
import {
  type CommitReference,
  type Contract,
  certificateDigest,
  contractId,
  contractSchema,
  createSigner,
  type DemandMessage,
  encodeCommitReference,
  encodeMessage,
  MAX_MESSAGE_BYTES,
  type Signer,
  sha256Hex,
  signingBytes,
  signMessage,
  type Unsigned,
  verifyCertificate,
  verifyMessage,
  type WireMessage,
} from "@walras/protocol";
import {
  type Cluster,
  type HostilePeer,
  paperProfiles,
  referenceFor,
  rejectedCount,
  startCluster,
  startHostilePeer,
  testContract,
  waitFor,
  waitForCertificate,
} from "@walras/test-support";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

/**
 * One honest cluster of five real libp2p nodes (TCP loopback) under attack from hostile peers
 * that are themselves real libp2p nodes. The fifth node's key is also held by the test, which
 * can therefore sign as that member (equivocation). Every attack must be counted under its
 * reason on every honest node, lower the attacker's gossipsub score there (an equivocation's
 * second version excepted: an honest peer forwards it too), and change nothing:
 * no message accepted, and the certificate still the reference equilibrium of the honest agents.
 */

const contract: Contract = testContract("hostile-test");
const id = contractId(contract);
const otherContract = contractId(contractSchema.parse({ ...contract, name: "another-market" }));

const root = mkdtempSync(join(tmpdir(), "walras-hostile-"));
const profiles = paperProfiles(6, 11);
const logLines: string[] = [];
let cluster: Cluster;
let honest: WalrasNode[];
let member: Signer;
/** Digests of the exact bytes each node accepted from the network (honest traffic goes on). */
const accepted = new Map<WalrasNode, string[]>();
function track(node: WalrasNode): void {
  const log: string[] = [];
  accepted.set(node, log);
  node.onMessage((m) => void log.push(sha256Hex(encodeMessage(m))));
}
/** How many times `node` accepted exactly these bytes. */
function timesAccepted(node: WalrasNode, bytes: Uint8Array): number {
  const digest = sha256Hex(bytes);
  return (accepted.get(node) ?? []).filter((d) => d === digest).length;
}
/** Every demand node 0 accepted, in order: material for forgeries and replays. */
const seen: DemandMessage[] = [];
const attackers: HostilePeer[] = [];

beforeAll(async () => {
  const memberKeyFile = join(root, "member.key");
  member = createSigner((await loadOrCreateKey(memberKeyFile)).privateKey.raw);
  // Node 0 logs warnings into memory, so the test can read what an operator would see.
  const logger = pino({ level: "warn" }, { write: (line: string) => void logLines.push(line) });
  cluster = await startCluster(contract, []);
  const first = await cluster.add(profiles[0] as (typeof profiles)[0], { logger, http: { port: 0 } });
  first.onMessage((m) => {
    if (m.kind === "demand") seen.push(m);
  });
  for (const p of profiles.slice(1, 4)) await cluster.add(p);
  await cluster.add(profiles[4] as (typeof profiles)[0], { keyFile: memberKeyFile });
  honest = [...cluster.nodes];
  for (const n of honest) track(n);
  await waitForCertificate(honest);
}, 90_000);

// Each test's attackers go when it ends: a dozen graylisted peers left connected would only add
// load and connections to every later test.
afterEach(async () => {
  await Promise.allSettled(attackers.splice(0).map((a) => a.stop()));
});

afterAll(async () => {
  await Promise.allSettled(attackers.map((a) => a.stop()));
  await cluster?.stop();
  rmSync(root, { recursive: true, force: true });
});

let attackerCount = 0;
async function attacker(targets: readonly WalrasNode[] = honest): Promise<HostilePeer> {
  const peer = await startHostilePeer({
    contractId: id,
    targets: targets.map((n) => n.multiaddrs()[0] as string),
    targetIds: targets.map((n) => n.peerId),
    dir: root,
    name: `hostile-${attackerCount++}`,
  });
  attackers.push(peer);
  return peer;
}

/** The current round's demand of an honest agent whose key the test does not hold. */
function honestDemand(): DemandMessage {
  const round = honest[0]?.status().round;
  const d = seen.findLast((m) => m.round === round && m.agent === honest[1]?.peerId);
  if (!d) throw new Error("no demand seen for the current round");
  return d;
}

function unsigned<M extends WireMessage>(m: M): Unsigned<M> {
  const { sig: _sig, ...rest } = m;
  return rest as Unsigned<M>;
}

function text(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/**
 * Sends `bytes` from a fresh hostile peer and checks every honest node counted and penalised it.
 * `penalised` false: a reject that an honest forwarder could send too (an equivocation's second
 * version, protocol §5), which gossipsub is told to ignore: the peer's score must not fall.
 */
async function expectRejected(
  kind: GossipKind,
  bytes: Uint8Array,
  reason: string,
  { penalised = true } = {},
): Promise<HostilePeer> {
  const before = await Promise.all(honest.map((n) => rejectedCount(n, reason)));
  const acceptedBefore = honest.map((n) => timesAccepted(n, bytes));
  const peer = await attacker();
  expect(await peer.send(kind, bytes)).toBe(honest.length);
  for (const [i, node] of honest.entries()) {
    await waitFor(async () => (await rejectedCount(node, reason)) > (before[i] as number), {
      timeoutMs: 10_000,
      what: `node ${i} to count a "${reason}" rejection`,
    });
    if (penalised)
      await waitFor(() => node.peerScore(peer.peerId) < 0, {
        timeoutMs: 10_000,
        what: `node ${i} to lower the attacker's gossip score`,
      });
  }
  expect(honest.map((n) => timesAccepted(n, bytes))).toEqual(acceptedBefore);
  if (!penalised) await expectOneRejectScored(peer, kind);
  return peer;
}

/**
 * gossipsub reads a peer's score from a cache refreshed each heartbeat, so "not lowered" is shown
 * against a reject that is: `peer` sends bytes that do not decode, and once its score falls on
 * every honest node it is that one reject's (P4: −10, decaying), not two's (−40).
 */
async function expectOneRejectScored(peer: HostilePeer, kind: GossipKind): Promise<void> {
  expect(await peer.send(kind, text("not json"))).toBe(honest.length);
  for (const [i, node] of honest.entries())
    await waitFor(() => node.peerScore(peer.peerId) < 0, {
      timeoutMs: 10_000,
      what: `node ${i} to lower the gossip score of a peer that sent undecodable bytes`,
    });
  expect(honest.map((n) => n.peerScore(peer.peerId) > -20)).toEqual(honest.map(() => true));
}

function expectHonestEquilibrium(nodes: readonly WalrasNode[]): void {
  const ref = referenceFor(contract, nodes, cluster.profiles);
  const cert = nodes[0]?.certificate();
  if (!cert) throw new Error("no certificate");
  for (const n of nodes) expect(n.certificate()?.commit).toEqual(cert.commit);
  expect(verifyCertificate(cert, contract)).toMatchObject({ ok: true });
  expect([...cert.commit.members].sort()).toEqual(nodes.map((n) => n.peerId).sort());
  const p = ref.prices[0] as number;
  expect(p).toBeGreaterThan(0);
  expect(Math.abs((cert.commit.prices[0] as number) - p) / p).toBeLessThan(1e-6);
  for (const a of cert.commit.allocations) {
    const x = ref.allocations.find((r) => r.agent === a.agent)?.x as number;
    expect(Math.abs(a.x - x)).toBeLessThan(1e-6 * Math.max(1, x));
  }
}

describe("hostile peers against five honest libp2p nodes", () => {
  it("the honest cluster reaches the reference equilibrium", () => {
    expectHonestEquilibrium(honest);
  });

  describe("signatures", () => {
    it("forged signature (a member's demand altered, signature kept): bad-signature", async () => {
      const d = honestDemand();
      await expectRejected("demand", encodeMessage({ ...d, x: d.x + 1 }), "bad-signature");
    });

    it("valid signature by a key that is not a member: not-member", async () => {
      const peer = await attacker();
      const d = signMessage<DemandMessage>(
        { ...unsigned(honestDemand()), agent: peer.signer.id },
        peer.signer,
      );
      expect(verifyMessage(d)).toBe(true);
      await expectRejected("demand", encodeMessage(d), "not-member");
    });

    it("a member's key used for another agent's id: bad-signature", async () => {
      const body = { ...unsigned(honestDemand()), x: 0.5 };
      const sig = Buffer.from(member.sign(signingBytes(body))).toString("base64");
      await expectRejected("demand", encodeMessage({ ...body, sig } as DemandMessage), "bad-signature");
    });

    it("a member's signature re-encoded (unused base64 bits flipped) cannot frame it: schema", async () => {
      const d = honestDemand();
      const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
      const last = alphabet[alphabet.indexOf(d.sig[85] as string) ^ 1] as string;
      const twin = { ...d, sig: `${d.sig.slice(0, 85)}${last}==` };
      expect(verifyMessage(twin)).toBe(true); // the same signature bytes: it would verify
      await expectRejected("demand", encodeMessage(twin), "schema");
      for (const n of honest) expect(n.status().equivocations.some((e) => e.agent === d.agent)).toBe(false);
    });
  });

  describe("commit references (protocol §8)", () => {
    /** A reference to the certificate's body (or to `body`), carrying `sig`, claimed by `agent`. */
    const reference = (agent: string, sig: string, body?: string): Uint8Array => {
      const cert = honest[0]?.certificate();
      if (!cert) throw new Error("no certificate");
      return encodeCommitReference({
        v: cert.commit.v,
        kind: "commit-ref",
        contract: cert.commit.contract,
        epoch: cert.commit.epoch,
        agent,
        sig,
        body: body ?? certificateDigest(cert),
      } as CommitReference);
    };

    it("one member's commit signature on another member's reference: bad-signature", async () => {
      const [first, second] = honest[0]?.certificate()?.signatures ?? [];
      if (!first || !second) throw new Error("a certificate with two signatures");
      await expectRejected("commit", reference(second.agent, first.sig), "bad-signature");
    });

    // Whether a node then asks for that member's commit (event `other-body`) is not checked here:
    // it asks only for a commit it lacks (certify.ts), and which of the certified epoch's commits
    // each node holds by now is up to gossip, not the test. The ask: unsettled-certificate.test.ts.
    it("a reference naming a body no node settled on: ignored, unpunished, nothing accepted", async () => {
      const [first] = honest[0]?.certificate()?.signatures ?? [];
      if (!first) throw new Error("no signature");
      const reason = "commit-ref-other-body";
      const before = await Promise.all(honest.map((n) => rejectedCount(n, reason)));
      const certs = honest.map((n) => n.status().certificate?.digest);
      const bytes = reference(first.agent, first.sig, "ee".repeat(32));
      const peer = await attacker();
      expect(await peer.send("commit", bytes)).toBe(honest.length);
      for (const [i, node] of honest.entries())
        await waitFor(async () => (await rejectedCount(node, reason)) > (before[i] as number), {
          timeoutMs: 10_000,
          what: `node ${i} to count a "${reason}" reference`,
        });
      expect(honest.map((n) => n.peerScore(peer.peerId) >= 0)).toEqual(honest.map(() => true));
      expect(honest.map((n) => timesAccepted(n, bytes))).toEqual(honest.map(() => 0));
      expect(honest.map((n) => n.status().certificate?.digest)).toEqual(certs);
    });
  });

  describe("replays", () => {
    it("another contract's message, signed by a member: wrong-contract", async () => {
      const d = signMessage<DemandMessage>(
        { ...unsigned(honestDemand()), contract: otherContract, agent: member.id } as Unsigned<DemandMessage>,
        member,
      );
      await expectRejected("demand", encodeMessage(d), "wrong-contract");
    });

    it("a member's message on another kind's topic: wrong-topic", async () => {
      await expectRejected("commit", encodeMessage(honestDemand()), "wrong-topic");
    });

    it("an old round's message, byte for byte: dropped unseen (content-addressed gossip ids), nothing changes", async () => {
      const old = seen.find((m) => m.round === 0);
      if (!old) throw new Error("no round-0 demand seen");
      const before = honest.map((n) => timesAccepted(n, encodeMessage(old)));
      const certs = honest.map((n) => n.status().certificate?.digest);
      const peer = await attacker();
      await peer.sendMessage("demand", old);
      // A fresh probe after the replay: once its rejection is counted everywhere, the replay
      // (sent first, on the same connections) has been handled everywhere too.
      await expectRejected("demand", text("{probe"), "malformed");
      expect(honest.map((n) => timesAccepted(n, encodeMessage(old)))).toEqual(before);
      expect(honest.map((n) => n.status().certificate?.digest)).toEqual(certs);
    });
  });

  describe("numbers and bytes", () => {
    const raw = (patch: (json: string) => string) =>
      text(patch(new TextDecoder().decode(encodeMessage(honestDemand()))));

    it("NaN (not JSON at all): malformed", async () => {
      await expectRejected(
        "demand",
        raw((j) => j.replace(/"x":[^,}]+/, '"x":NaN')),
        "malformed",
      );
    });

    it("Infinity literal: malformed; 1e999 (parses to Infinity): schema", async () => {
      await expectRejected(
        "demand",
        raw((j) => j.replace(/"x":[^,}]+/, '"x":Infinity')),
        "malformed",
      );
      await expectRejected(
        "demand",
        raw((j) => j.replace(/"x":[^,}]+/, '"x":1e999')),
        "schema",
      );
    });

    it("negative quantity, positive slope, absurd magnitude: schema", async () => {
      const d = honestDemand();
      await expectRejected("demand", encodeMessage({ ...d, x: -1 }), "schema");
      await expectRejected("demand", encodeMessage({ ...d, slope: 3 }), "schema");
      await expectRejected("demand", encodeMessage({ ...d, x: 1e300 }), "schema");
    });

    it("wrong resource count, correctly signed by a member: resource-count", async () => {
      const d = signMessage<DemandMessage>(
        { ...unsigned(honestDemand()), agent: member.id, prices: [0, 0], footprint: [1, 1] },
        member,
      );
      await expectRejected("demand", encodeMessage(d), "resource-count");
    });

    it("malformed and truncated bytes: malformed", async () => {
      const bytes = encodeMessage(honestDemand());
      await expectRejected("demand", bytes.subarray(0, bytes.length - 7), "malformed");
      await expectRejected("commit", Uint8Array.from([0xff, 0xfe, 0x00, 0x7b]), "malformed");
    });

    it("a message over the size limit: oversize", async () => {
      const big = text(`{"pad":"${"a".repeat(MAX_MESSAGE_BYTES)}"}`);
      await expectRejected("membership", big, "oversize");
    });
  });

  describe("flood", () => {
    /** The sixth agent, joined after epoch 0: by the flood test, or by the replay test run alone. */
    let lateJoiner: WalrasNode | undefined;
    const joinLate = async (): Promise<WalrasNode> => {
      const node = await cluster.add(profiles[5] as (typeof profiles)[0]);
      track(node);
      await waitForCertificate([...honest, node], 60_000);
      return node;
    };

    it("one peer floods valid-looking messages: rate-limited, none of it kept, a new epoch still completes", async () => {
      const before = await Promise.all(honest.map((n) => rejectedCount(n, "rate-limit")));
      const futureBefore = await Promise.all(honest.map((n) => rejectedCount(n, "future")));
      const peer = await attacker();
      // Signed demands for far-future epochs: each is well-formed and distinct, and judged cheaply
      // (ignored, no penalty) — only the rate limit stops the peer from sending them forever.
      const template = unsigned(honestDemand());
      const FLOOD = 8000;
      const flood: Uint8Array[] = [];
      for (let i = 0; i < FLOOD; i++)
        flood.push(
          encodeMessage(
            signMessage<DemandMessage>({ ...template, agent: peer.signer.id, epoch: 1000 + i }, peer.signer),
          ),
        );
      // An honest agent joins meanwhile: epoch 1 must still form, run its rounds and certify.
      const floodDigests = new Set(flood.map((bytes) => sha256Hex(bytes)));
      const joiner = cluster.add(profiles[5] as (typeof profiles)[0]);
      const started = Date.now();
      for (const bytes of flood) await peer.send("demand", bytes);
      const floodMs = Date.now() - started;
      // Graylisted at once (its RPCs ignored); the penalty decays over about a minute afterwards.
      await waitFor(() => honest.every((n) => n.peerScore(peer.peerId) < -80), {
        timeoutMs: 20_000,
        what: "every honest node to graylist the flooder",
      });
      lateJoiner = await joiner;
      track(lateJoiner);
      const all = [...honest, lateJoiner];
      await waitForCertificate(all, 60_000);
      expectHonestEquilibrium(all);
      // What bounds memory: the limiter rejects the flooder's excess before it is decoded, and
      // what gets through is ignored as "future" (the flooder could not join those epochs), so
      // none of it is held for later, stored or forwarded: not one flood message was accepted.
      for (const [i, node] of honest.entries()) {
        const limited = (await rejectedCount(node, "rate-limit")) - (before[i] as number);
        const future = (await rejectedCount(node, "future")) - (futureBefore[i] as number);
        expect(limited).toBeGreaterThan(0);
        expect(future).toBeGreaterThan(0);
        expect(accepted.get(node)?.filter((d) => floodDigests.has(d))).toEqual([]);
      }
      console.info(
        `flood: ${FLOOD} messages in ${floodMs} ms; rate-limited on each node: ${await Promise.all(
          honest.map(async (n, i) => (await rejectedCount(n, "rate-limit")) - (before[i] as number)),
        )}`,
      );
    });

    it("another epoch's messages replayed to a node that never saw them: ignored (stale), not applied", async () => {
      lateJoiner ??= await joinLate();
      const late = lateJoiner;
      expect(honest).not.toContain(late);
      // Node 0's own demand never comes back to it, so it saw the other four.
      const epoch0 = seen.filter((m) => m.epoch === 0 && m.round === 0);
      expect(epoch0.length).toBe(4);
      const stale = (await rejectedCount(late, "stale")) + (await rejectedCount(late, "duplicate"));
      const before = epoch0.map((m) => timesAccepted(late, encodeMessage(m)));
      const cert = late.status().certificate?.digest;
      const peer = await attacker([...honest, late]);
      for (const m of epoch0) await peer.sendMessage("demand", m);
      await waitFor(
        async () =>
          (await rejectedCount(late, "stale")) + (await rejectedCount(late, "duplicate")) >=
          stale + epoch0.length,
        { timeoutMs: 10_000, what: "the late node to ignore every replay" },
      );
      expect(epoch0.map((m) => timesAccepted(late, encodeMessage(m)))).toEqual(before);
      expect(late.status().certificate?.digest).toBe(cert);
    });
  });

  // Last: the member it convicts is excluded from the market, which changes the epochs the other
  // tests would see.
  describe("equivocation by a member", () => {
    it("two demands and two commits for one slot: rejected, evidence kept in /status and the logs", async () => {
      const cert = honest[0]?.certificate();
      if (!cert) throw new Error("no certificate");
      const conflictingCommit = signMessage(
        {
          ...cert.commit,
          residual: cert.commit.residual + 0.5,
          agent: member.id,
        } as unknown as Unsigned<WireMessage>,
        member,
      );
      // Not penalised: an honest peer holding the other version as valid forwards it too.
      await expectRejected("commit", encodeMessage(conflictingCommit), "equivocation", { penalised: false });

      // The demand last: two demands at the same prices convict the member (protocol §5.1), and the
      // next epoch is decided without it. (Commits convict no one.)
      const epochBefore = honest[0]?.status().epoch ?? -1;
      const real = seen.findLast((m) => m.agent === member.id && m.round === honest[0]?.status().round);
      if (!real) throw new Error("the member's demand for the current round was not seen");
      const conflicting = signMessage<DemandMessage>({ ...unsigned(real), x: real.x / 2 }, member);
      await expectRejected("demand", encodeMessage(conflicting), "equivocation", { penalised: false });
      const others = honest.slice(0, 4);
      await waitFor(
        () =>
          others.every((n) => {
            const st = n.status();
            return (st.epoch ?? -1) > epochBefore && !st.members.some((id) => id === member.id);
          }),
        { timeoutMs: 60_000, what: "an epoch decided without the convicted member" },
      );

      for (const node of honest) {
        const evidence = node.status().equivocations.filter((e) => e.agent === member.id);
        expect(evidence.map((e) => (e.second as WireMessage).kind).sort()).toEqual(["commit", "demand"]);
        for (const e of evidence) {
          const [a, b] = [e.first as WireMessage, e.second as WireMessage];
          expect(verifyMessage(a) && verifyMessage(b)).toBe(true);
          expect(encodeMessage(a)).not.toEqual(encodeMessage(b));
          expect([a.agent, b.agent]).toEqual([member.id, member.id]);
        }
        expect(evidence.find((e) => (e.second as WireMessage).kind === "demand")?.second).toEqual(
          conflicting,
        );
      }
      const status = (await (await fetch(`${honest[0]?.httpUrl}/status`)).json()) as {
        equivocations: { agent: string; first: DemandMessage; second: DemandMessage }[];
      };
      const shown = status.equivocations.find((e) => e.second.kind === "demand");
      expect(shown).toMatchObject({ agent: member.id, first: real, second: conflicting });
      const logged = logLines
        .map((l) => JSON.parse(l))
        .filter((l) => String(l.msg).startsWith("equivocation"));
      expect(logged.map((l) => l.second.kind).sort()).toEqual(["commit", "demand"]);
      expect(logged.every((l) => l.agent === member.id && l.first && l.second)).toBe(true);
    });
  });
});
