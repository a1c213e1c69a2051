import { truncate } from "node:fs/promises";
import { join } from "node:path";
import { contractId, createSigner, paperProfiles } from "@walras/protocol";
import {
  type Cluster,
  type HostilePeer,
  madeUpDecision,
  startCluster,
  startHostilePeer,
  testContract,
} from "@walras/test-support";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { STORE_FILE } from "../src/store/store.ts";
import { startWalrasNode, type WalrasNode } from "../src/walras-node.ts";
import { captureLog } from "./log-capture.ts";
import { waitFor } from "./wait-for.ts";

/**
 * docs/protocol.md §9.3 over real libp2p: a founder restarted on its key with its store found empty
 * (walras-node.ts: `storeLost`) that hears another agent's message of an epoch before it founds
 * suspends founding for good: its own network probably runs without it. Answers without a decision
 * from two peers over more than LONE_PEER_ROUNDS round timeouts would resume any other founder.
 */

// announceMs as long as a round timeout: the founder's brisk asks (4 per announceMs, for a round
// timeout) are then few, and the answers below stand for little more than the time they imply.
const roundMs = 800;
const announceMs = 800;
const contract = testContract("store-lost-founder", { minMembers: 3, timeouts: { roundMs, announceMs } });
const profiles = paperProfiles(3, 11);
const SUSPENDED_FOR_GOOD = /^founding suspended for good/;
/** founding-gate.ts: the round timeouts after which even one peer's empty answers resume a founder. */
const LONE_PEER_ROUNDS = 4;

let cluster: Cluster | undefined;
let stranger: HostilePeer | undefined;
afterEach(async () => {
  await stranger?.stop();
  await cluster?.stop();
  stranger = undefined;
  cluster = undefined;
});

/**
 * Decision asks a suspended founder can have sent within `ms` of the message that suspended it, at
 * most (decision-ask-pace.ts): FIRST_EPOCH_ASKS (4) per announceMs for a round timeout, then each wait
 * doubled up to the least joinerAnnounceMs, max(announceMs, roundMs / 2). One ask more implies
 * that `ms` passed on its clock, with no sleep standing in for it.
 */
function asksWithin(ms: number): number {
  let every = announceMs / 4;
  let asks = 0;
  for (let at = 0; at <= ms; ) {
    asks++;
    const next = at + every;
    if (at >= roundMs) every = Math.min(2 * every, Math.max(announceMs, roundMs / 2));
    at = next;
  }
  return asks;
}

async function answeredAsks(node: WalrasNode): Promise<number> {
  const metric = await node.metrics.syncRequestsSent.get();
  return metric.values.filter((v) => v.labels.outcome === "answered").reduce((sum, v) => sum + v.value, 0);
}

describe("a founder restarted on its key with an emptied store", () => {
  it("hears a stranger's epoch, says it is suspended for good, and never founds, whatever its peers answer", async () => {
    const network = await startCluster(contract, []);
    cluster = network;
    const dataDir = join(network.root, "founder");
    const agent = profiles[0] as (typeof profiles)[0];
    // A first run leaves its key; then the store is lost as a disk that filled leaves it.
    const first = await startWalrasNode({
      contract,
      agent,
      dataDir,
      listen: ["/ip4/127.0.0.1/tcp/0"],
      logger: pino({ level: "silent" }),
    });
    await first.stop({ leave: false });
    await truncate(join(dataDir, STORE_FILE), 0);

    const log = captureLog("info");
    // The cluster's first node: no bootstrap peer, so a founder; minMembers 3 keeps it from
    // founding before the joiners below, whatever the stranger's timing.
    const founder = await network.add(agent, { dataDir, logger: log.logger });
    expect(founder.status().founder).toBe(true);
    stranger = await startHostilePeer({
      contractId: contractId(contract),
      targets: [founder.multiaddrs()[0] as string],
      targetIds: [founder.peerId],
      dir: network.root,
      name: "stranger",
    });
    const throwaway = [40, 41].map((i) => createSigner(new Uint8Array(32).fill(i)));
    const propose = madeUpDecision(contract, 3, throwaway).find((m) => m.kind === "propose");
    expect(await stranger.sendMessage("membership", propose as NonNullable<typeof propose>)).toBe(1);
    // Either suspension line: one that is not for good is what a founder that lost no store says.
    await waitFor("the founder to suspend founding", () =>
      log.lines.some((l) => l.msg.startsWith("founding suspended")),
    );
    // Only the joiners answer its asks from here on: empty, as neither holds an epoch.
    await stranger.stop();
    stranger = undefined;
    for (const p of profiles.slice(1)) await network.add(p);

    // Each ask goes to at most 2 peers: this many answers mean the founder asked after
    // LONE_PEER_ROUNDS + 1 round timeouts, with 2 peers answering empty all along.
    const answers = 2 * asksWithin((LONE_PEER_ROUNDS + 1) * roundMs) + 1;
    await waitFor(
      "the joiners' empty answers over LONE_PEER_ROUNDS + 1 round timeouts, or a founding",
      async () => (await answeredAsks(founder)) >= answers || founder.status().epoch !== null,
    );
    expect(founder.status().epoch).toBeNull();
    expect(log.lines.filter((l) => SUSPENDED_FOR_GOOD.test(l.msg))).toMatchObject([
      { level: 40, kind: "propose", epoch: 3 },
    ]);
    expect(log.lines.filter((l) => /^founding resumed/.test(l.msg))).toEqual([]);
  });
});
