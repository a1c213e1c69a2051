import { join } from "node:path";
import type { GossipSub } from "@libp2p/gossipsub";
import {
  type GossipKind,
  gossipTopic,
  loadOrCreateKey,
  SYNC_PROTOCOL,
  SYNC_PROTOCOL_2_0,
  type WalrasNode,
} from "@walras/node";
import {
  contractId,
  createSigner,
  type DemandMessage,
  type JoinMessage,
  PROTOCOL_VERSION,
  signMessage,
  type Unsigned,
} from "@walras/protocol";
import {
  paperProfiles,
  peerGater,
  rejectedCount,
  startCluster,
  startedByTest,
  startHostilePeer,
  testContract,
  waitForCertificate,
} from "@walras/test-support";
import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "./wait-for.ts";

/**
 * docs/security.md §3 over real libp2p: a node with no epoch cannot judge whether a message's
 * signer is a member, so it keeps what it takes on trust for itself and does not forward it. A
 * member judges a non-member's demand `not-member` and lowers the forwarder's gossip score (three
 * reach the graylist): an honest joiner that forwarded a stranger's throwaway keys' demands would
 * be graylisted by the network it is joining.
 */

const contract = testContract("no-epoch-forwarding", { minMembers: 3 });
const id = contractId(contract);
const profiles = paperProfiles(4, 7);
const started = startedByTest();
afterEach(() => started.stop());

const meshPeers = (node: WalrasNode, kind: GossipKind): string[] =>
  (node.host.libp2p.services.pubsub as GossipSub & { getMeshPeers(topic: string): string[] }).getMeshPeers(
    gossipTopic(id, kind),
  );

describe("a node with no epoch, between a stranger and a member", () => {
  it("takes the stranger's throwaway keys' demands but does not forward them, so the member does not blame it", async () => {
    const network = started.add(await startCluster(contract, profiles.slice(0, 3)));
    await waitForCertificate(network.nodes);
    const member = network.nodes[0] as WalrasNode;
    const epoch = member.status().epoch as number;
    // The member serves no sync, so the node it is the only honest peer of stays without an epoch.
    await member.host.libp2p.unhandle([SYNC_PROTOCOL, SYNC_PROTOCOL_2_0]);

    const allowed: string[] = [member.peerId];
    const fresh = await network.add(profiles[3] as (typeof profiles)[0], {
      bootstrap: [member.multiaddrs()[0] as string],
      founder: false,
      // Only the member and the stranger reach it, and it reaches only them.
      connectionGater: peerGater((peer) => !allowed.includes(peer)),
    });
    // The stranger's key file, made first so that its peer id is let through.
    allowed.push((await loadOrCreateKey(join(network.root, "stranger.key"))).peerId.toString());
    const stranger = started.add(
      await startHostilePeer({
        contractId: id,
        targets: [fresh.multiaddrs()[0] as string],
        targetIds: [fresh.peerId],
        dir: network.root,
        name: "stranger",
      }),
    );
    for (const kind of ["demand", "membership"] as const)
      await waitFor(`the fresh node to mesh with the member on ${kind}`, () =>
        meshPeers(fresh, kind).includes(member.peerId),
      );
    expect(fresh.status().epoch).toBeNull();

    const throwaway = [30, 31, 32].map((i) => createSigner(new Uint8Array(32).fill(i)));
    const taken = new Set<string>();
    fresh.onMessage((m) => {
      if (m.kind === "demand") taken.add(m.agent);
    });
    const joined: string[] = [];
    member.onMessage((m) => {
      if (m.kind === "join") joined.push(m.agent);
    });
    const before = await rejectedCount(member, "not-member");

    for (const key of throwaway) {
      const demand = signMessage<DemandMessage>(
        {
          v: PROTOCOL_VERSION,
          kind: "demand",
          contract: id,
          agent: key.id,
          epoch,
          round: 0,
          prices: [0.5],
          x: 1,
          slope: -1,
          footprint: [1],
        } as Unsigned<DemandMessage>,
        key,
      );
      expect(await stranger.sendMessage("demand", demand)).toBe(1);
    }
    // Seen once in CI (one run in four), not since in 16 runs under load: a timeout here says what
    // the fresh node made of the stranger's messages and who was connected to whom.
    await waitFor("the fresh node to take the three demands", () => taken.size === throwaway.length).catch(
      async (err: Error) => {
        const judged = (await fresh.metrics.messagesRejected.get()).values.map(
          (v) => `${v.labels.reason} ${v.value}`,
        );
        const peers = (node: { host: { libp2p: { getPeers(): unknown[] } } }) =>
          node.host.libp2p.getPeers().map(String);
        throw new Error(
          `${err.message}; taken from ${taken.size} of the keys; the fresh node's rejections and ignores: ` +
            `${judged.join(", ") || "none"}; its peers: ${peers(fresh).join(", ")}; the stranger's: ` +
            `${peers(stranger).join(", ")} (fresh ${fresh.peerId}, member ${member.peerId}, stranger ${stranger.peerId})`,
        );
      },
    );
    expect(fresh.status().epoch).toBeNull();
    // At least the three: the network may already be running the epoch that admits the fresh node,
    // whose members' demands it also takes on trust and keeps (seen once in CI: 24).
    const kept = (await fresh.metrics.messagesKeptUnforwarded.get()).values;
    expect(kept.map((v) => v.labels.kind)).toEqual(["demand"]);
    expect(kept[0]?.value).toBeGreaterThanOrEqual(throwaway.length);

    // A join is judged whatever the epoch, so the fresh node forwards it: once the member has it,
    // whatever the fresh node forwarded before it has reached the member too.
    const joinMessage = signMessage<JoinMessage>(
      {
        v: PROTOCOL_VERSION,
        kind: "join",
        contract: id,
        agent: stranger.signer.id,
        epoch: 0,
        seq: 1,
      } as Unsigned<JoinMessage>,
      stranger.signer,
    );
    expect(await stranger.sendMessage("membership", joinMessage)).toBe(1);
    await waitFor("the member to get the stranger's join through the fresh node", () =>
      joined.includes(stranger.signer.id),
    );
    expect(await rejectedCount(member, "not-member")).toBe(before);
    expect(member.peerScore(fresh.peerId)).toBeGreaterThanOrEqual(0);
  }, 90_000);
});
