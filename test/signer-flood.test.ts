import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadOrCreateKey, type WalrasNode } from "@walras/node";
import { createSigner, type DemandMessage, type Signer, signMessage, type Unsigned } from "@walras/protocol";
import {
  type Cluster,
  type HostilePeer,
  paperProfiles,
  rejectedCount,
  startCluster,
  startHostilePeer,
  testContract,
  waitFor,
  waitForCertificate,
} from "@walras/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * A member that sends its own conflicting demands straight to the nodes (docs/protocol.md §5):
 * `price-mismatch` and `equivocation` cost a forwarder nothing, since an honest peer across a
 * split forwards such messages too, but the signer itself sending a second version for one slot
 * is what no honest node does, and it loses gossip score (inbound/signer-blame.ts). Four real
 * libp2p nodes; the fourth's key is held by the test, which stops that node and speaks with its
 * key from a hostile peer (its libp2p peer id is the member's agent id).
 */

// Long rounds: the stopped member must stay a member (not dropped for silence) during the test.
const contract = testContract("signer-flood", {
  minMembers: 4,
  timeouts: { roundMs: 20_000, announceMs: 300 },
});
const root = mkdtempSync(join(tmpdir(), "walras-signer-flood-"));
let cluster: Cluster;
let honest: WalrasNode[];
let member: Signer;
const attackers: HostilePeer[] = [];
const seen: DemandMessage[] = [];

beforeAll(async () => {
  const keyFile = join(root, "member.key");
  member = createSigner((await loadOrCreateKey(keyFile)).privateKey.raw);
  const profiles = paperProfiles(4, 7);
  cluster = await startCluster(contract, []);
  const first = await cluster.add(profiles[0] as (typeof profiles)[0]);
  first.onMessage((m) => {
    if (m.kind === "demand" && m.agent === member.id) seen.push(m);
  });
  for (const p of profiles.slice(1, 3)) await cluster.add(p);
  const memberNode = await cluster.add(profiles[3] as (typeof profiles)[0], { keyFile });
  await waitForCertificate(cluster.nodes);
  honest = cluster.nodes.slice(0, 3);
  await memberNode.stop({ leave: false });
}, 90_000);

afterAll(async () => {
  await Promise.allSettled(attackers.map((a) => a.stop()));
  await cluster?.stop();
  rmSync(root, { recursive: true, force: true });
});

async function peer(name: string): Promise<HostilePeer> {
  const p = await startHostilePeer({
    contractId: honest[0]?.contractId as string,
    targets: honest.map((n) => n.multiaddrs()[0] as string),
    targetIds: honest.map((n) => n.peerId),
    dir: root,
    name,
  });
  attackers.push(p);
  return p;
}

/** The member's last demand, re-signed with `change` applied. */
function version(change: Partial<DemandMessage>): DemandMessage {
  const real = seen.at(-1);
  if (!real) throw new Error("no demand of the member seen");
  const { sig: _sig, ...rest } = real;
  return signMessage<DemandMessage>({ ...rest, ...change } as Unsigned<DemandMessage>, member);
}

const counted = (reason: string) => Promise.all(honest.map((n) => rejectedCount(n, reason)));
async function sendCounted(from: HostilePeer, m: DemandMessage, reason: string): Promise<void> {
  const before = await counted(reason);
  expect(await from.sendMessage("demand", m)).toBe(honest.length);
  for (const [i, node] of honest.entries())
    await waitFor(async () => (await rejectedCount(node, reason)) > (before[i] as number), {
      timeoutMs: 10_000,
      what: `node ${i} to count a "${reason}" rejection`,
    });
}

describe("a member's own conflicting demands sent directly", () => {
  it("cost it gossip score from its second version of a slot on; a forwarder's cost nothing", async () => {
    const real = seen.at(-1) as DemandMessage;
    const at = (k: number) => version({ prices: real.prices.map((p) => p + k * 0.01), x: real.x + k });

    // A forwarder (not the signer) sends two mismatching versions: blameless. (Not an equivocation
    // at the prices answered: that would convict the member, and the next epoch makes the rest stale.)
    const forwarder = await peer("forwarder");
    await sendCounted(forwarder, at(1), "price-mismatch");
    await sendCounted(forwarder, at(2), "price-mismatch");

    // The signer itself: its first mismatching demand for the slot is what an honest member across
    // a split sends too, and is free (signer-blame.test.ts, which also has a signer's own
    // equivocation); each further version is a reject. P4 is quadratic: three rejects are -90,
    // past the graylist threshold (-80). Without the rule none counts, and the score stays near 0.
    const signer = await peer("member");
    expect(signer.peerId).toBe(member.id);
    await sendCounted(signer, at(3), "price-mismatch");
    await sendCounted(signer, at(4), "price-mismatch");
    await sendCounted(signer, at(5), "price-mismatch");
    await sendCounted(signer, at(6), "price-mismatch");
    for (const [i, node] of honest.entries())
      await waitFor(() => node.peerScore(signer.peerId) < -80, {
        timeoutMs: 10_000,
        what: `node ${i} to graylist the signer`,
      });
    // Read after the signer's score showed a refresh since its rejects, which came after the
    // forwarder's (gossipsub caches scores between heartbeats).
    expect(honest.map((n) => n.peerScore(forwarder.peerId) > -20)).toEqual(honest.map(() => true));
  }, 60_000);
});
