import { join } from "node:path";
import {
  createHost,
  type Host,
  loadOrCreateKey,
  type MessagesRequest,
  type SyncRequest,
  type WalrasNode,
} from "@walras/node";
import {
  type AcceptMessage,
  contractId,
  createSigner,
  type DemandMessage,
  encodeMessage,
  planDigest,
  signMessage,
  type Unsigned,
  type WireMessage,
} from "@walras/protocol";
import {
  type Cluster,
  type HostileAnswer,
  madeUpDecision,
  paperProfiles,
  rejectedCount,
  serveHostileSync,
  startCluster,
  testContract,
  waitFor,
  waitForCertificate,
} from "@walras/test-support";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";

/**
 * docs/protocol.md §3, docs/security.md §2: a peer that a joiner *asks* and that lies in its
 * answers, over real libp2p. The joiner first reaches only that peer (its asks for the current
 * decision all go to it), then the honest network too, while it loses half of its gossip so
 * that it catches up over sync, from the liar among others. Every lie must be dropped, counted and
 * held against the liar, and the joiner must still adopt the real epoch and certify with it.
 */

// The gradient rule takes many rounds: the joiner, losing half its gossip, has demands to fetch.
const contract = testContract("asked-hostile", { minMembers: 2, priceRule: { kind: "gradient" } });
const id = contractId(contract);
const profiles = paperProfiles(3, 31);
let cluster: Cluster | null = null;
let liar: Host | null = null;

afterAll(async () => {
  await liar?.stop();
  await cluster?.stop();
});

const b64 = (m: WireMessage | Uint8Array): string =>
  Buffer.from(m instanceof Uint8Array ? m : encodeMessage(m)).toString("base64");

/** 3 MiB announced: past every answer's byte limit (a decision's and a page's ~1.7 MiB). */
const OVERSIZE: HostileAnswer = { announced: 3 * 1024 * 1024 };
const UNDECODABLE: HostileAnswer = { raw: new TextEncoder().encode('{"messages": [not json') };

/**
 * A decision that does not check against the deciders it names: the proposal signed by a decider
 * that is not its view's proposer, and the accepts by keys that are not deciders at all.
 */
function crookedDecision(): WireMessage[] {
  const keys = [1, 2, 3].map((i) => createSigner(new Uint8Array(32).fill(100 + i)));
  const outsiders = [4, 5].map((i) => createSigner(new Uint8Array(32).fill(100 + i)));
  const honest = madeUpDecision(contract, 5, keys);
  const propose = honest.find((m) => m.kind === "propose");
  if (propose?.kind !== "propose") throw new Error("madeUpDecision made no proposal");
  const notProposer = keys.find((k) => k.id !== propose.agent) as (typeof keys)[0];
  const { sig: _, ...unsigned } = propose;
  return [
    signMessage({ ...unsigned, agent: notProposer.id }, notProposer),
    ...outsiders.map((k) =>
      signMessage(
        {
          v: propose.v,
          contract: id,
          epoch: 5,
          view: 0,
          kind: "accept",
          agent: k.id,
          plan: planDigest(5, propose.plan),
        } as Unsigned<AcceptMessage>,
        k,
      ),
    ),
  ];
}

/** A made-up decision with each signature's first byte changed. */
function forgedDecision(): WireMessage[] {
  const keys = [7, 8].map((i) => createSigner(new Uint8Array(32).fill(100 + i)));
  return madeUpDecision(contract, 6, keys).map((m) => {
    const sig = Buffer.from(m.sig, "base64");
    sig[0] = (sig[0] as number) ^ 0xff;
    return { ...m, sig: sig.toString("base64") };
  });
}

describe("a peer that a joiner asks, and that lies", () => {
  it("is dropped, counted and penalised for each lie; the joiner takes the real epoch and certifies", async () => {
    cluster = await startCluster(contract, []);
    const founder = await cluster.add(profiles[0] as (typeof profiles)[0]);
    const demands: DemandMessage[] = [];
    founder.onMessage((m) => {
      if (m.kind === "demand") demands.push(m);
    });
    const member = await cluster.add(profiles[1] as (typeof profiles)[1]);
    const honest: WalrasNode[] = [founder, member];
    await waitFor(() => demands.length >= 2, {
      timeoutMs: 30_000,
      what: "the honest market's first demands",
    });

    const key = await loadOrCreateKey(join(cluster.root, "liar.key"));
    liar = await createHost({ privateKey: key.privateKey, listen: ["/ip4/127.0.0.1/tcp/0"] });
    const liarId = key.peerId.toString();
    const served = { decision: [] as string[], messages: [] as string[] };
    let deepestAfter = 0;
    const decisionLies: [string, () => HostileAnswer][] = [
      ["oversize", () => OVERSIZE],
      ["undecodable", () => UNDECODABLE],
      ["crooked", () => ({ json: { messages: crookedDecision().map(b64) } })],
      ["forged", () => ({ json: { messages: forgedDecision().map(b64) } })],
    ];
    // A member's demand, moved to the epoch and round asked for and changed: its signature fails.
    const forgedDemands = (r: MessagesRequest) =>
      demands.slice(-4).map((d) => b64({ ...d, epoch: r.epoch, round: r.round ?? d.round, x: d.x + 1 }));
    // Real demands of epoch 0's first rounds, which a joiner of a later epoch never asks for.
    let firstUnasked = 0;
    const wantsDemands = (r: MessagesRequest) => (r.kinds ?? ["demand"]).includes("demand");
    const unasked = (r: MessagesRequest): HostileAnswer => {
      const old = demands.slice(0, 4).filter((d) => d.epoch !== r.epoch || d.round !== (r.round ?? d.round));
      firstUnasked ||= old.length;
      return { json: { messages: old.map(b64) } };
    };
    // Each with the requests it fits: the forgeries and replays are demands.
    const messagesLies: [string, (r: MessagesRequest) => HostileAnswer, (r: MessagesRequest) => boolean][] = [
      ["forged", (r) => ({ json: { messages: forgedDemands(r) } }), wantsDemands],
      ["unasked", unasked, wantsDemands],
      ["endless", () => ({ json: { messages: [], next: 1 } }), () => true],
      // Last: the joiner cools off from a peer whose answer failed, and a settled market asks little.
      // (Answers that do not decode are the decision asks' in phase 1.)
      ["oversize", () => OVERSIZE, () => true],
    ];
    const lie = (request: SyncRequest): HostileAnswer => {
      if (request.type === "messages") {
        if (request.after !== undefined) {
          // Every page says another follows.
          deepestAfter = Math.max(deepestAfter, request.after);
          return { json: { messages: [], next: request.after + 1 } };
        }
        // Each lie that fits once, first come first served; then round and round.
        const fits = messagesLies.filter(([, , fit]) => fit(request));
        const [name, make] = (fits.find(([n]) => !served.messages.includes(n)) ??
          fits[served.messages.length % fits.length]) as (typeof messagesLies)[0];
        served.messages.push(name);
        return make(request);
      }
      if (request.type !== "decision") return UNDECODABLE;
      const [name, make] = decisionLies[
        served.decision.length % decisionLies.length
      ] as (typeof decisionLies)[0];
      served.decision.push(name);
      return make();
    };
    await serveHostileSync(liar, lie, { json: { peers: "everyone" } });

    // Phase 1: the joiner reaches the liar alone, so each of its asks for the current decision
    // goes there.
    let gated = true;
    const honestIds = honest.map((n) => n.peerId);
    const deny = async (peer: { toString(): string }) => gated && honestIds.includes(peer.toString());
    const lines: string[] = [];
    const logger = pino({ level: "warn" }, { write: (line: string) => void lines.push(line) });
    const joiner = await cluster.add(profiles[2] as (typeof profiles)[2], {
      logger,
      bootstrap: [liar.libp2p.getMultiaddrs()[0]?.toString() as string],
      connectionGater: {
        denyDialPeer: deny,
        denyInboundEncryptedConnection: deny,
        denyOutboundEncryptedConnection: deny,
      },
      inboundLoss: 0.5,
    });
    await waitFor(() => served.decision.length >= decisionLies.length, {
      timeoutMs: 30_000,
      what: "the joiner to ask the liar for the decision once per lie",
    });
    expect(joiner.status().epoch).toBe(null);

    // Phase 2: the honest network too.
    gated = false;
    await founder.host.libp2p.dial(joiner.host.libp2p.getMultiaddrs());
    await waitForCertificate([...honest, joiner], 90_000);
    await waitFor(() => messagesLies.every(([n]) => served.messages.includes(n)), {
      timeoutMs: 60_000,
      what: "the joiner to ask the liar for messages once per lie",
    }).catch((err: Error) => {
      throw new Error(`${err.message} (served: ${served.messages.join(", ") || "none"})`);
    });

    // Whatever the requests were for (their purpose label).
    const sent = async (outcome: string) =>
      (await joiner.metrics.syncRequestsSent.get()).values
        .filter((v) => v.labels.outcome === outcome)
        .reduce((sum, v) => sum + v.value, 0);
    // Oversize answers: reset at their length prefix, counted, penalised.
    expect(await sent("oversized")).toBeGreaterThanOrEqual(2);
    // Answers that do not decode: failures (no end of the peer's cooling off).
    expect(await sent("failed")).toBeGreaterThanOrEqual(1);
    // Messages with bad signatures, in a decision and in a page.
    expect(await rejectedCount(joiner, "bad-signature")).toBeGreaterThanOrEqual(2);
    // The crooked decision: a proposal by a decider not its view's proposer.
    expect(await rejectedCount(joiner, "not-proposer")).toBeGreaterThanOrEqual(1);
    // Messages of other epochs and rounds than asked for: counted, not judged.
    // (At least the first such answer's: a later one may still be on its way.)
    expect(firstUnasked).toBeGreaterThan(0);
    await waitFor(async () => (await rejectedCount(joiner, "unrequested")) >= firstUnasked, {
      what: "the joiner to count the unasked messages as unrequested",
    });
    // Endless pages: at most 16 pages per catch-up from one peer (the first has no `after`).
    expect(deepestAfter).toBeGreaterThan(0);
    expect(deepestAfter).toBeLessThanOrEqual(15);
    // Each oversize answer, and each answer holding rejected messages, lowered the liar's score
    // (gossipsub's P7, which decays within seconds: a few lies are forgiven, a flood is not).
    const warned = (msg: string) =>
      lines.some((l) => {
        const line = JSON.parse(l) as { msg?: string; peer?: string };
        return line.msg === msg && line.peer === liarId;
      });
    expect(warned("sync answer over the page asked for; dropped")).toBe(true);
    expect(warned("sync answer held rejected messages; peer penalised")).toBe(true);
    // Its peer exchange answer, which lists no peers, is rejected too.
    await waitFor(() => warned("peer exchange answer rejected"), {
      timeoutMs: 30_000,
      what: "the joiner to ask the liar for peers",
    });
    // The joiner took the real network's epoch, none of the made-up deciders'.
    const members = joiner.status().members ?? [];
    expect([...members].sort()).toEqual([...honestIds, joiner.peerId].sort());
  }, 200_000);
});
