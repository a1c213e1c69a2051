import { join } from "node:path";
import { DISCOVERY_TOPIC, GOSSIP_KINDS, gossipTopic, type WalrasNode } from "@walras/node";
import { contractId } from "@walras/protocol";
import { type Cluster, paperProfiles, startCluster, testContract, waitFor } from "@walras/test-support";
import { afterAll, describe, it } from "vitest";

/**
 * A node that stops and comes back under the same key is taken back into its peers' gossip
 * meshes at once (docs/security.md, gossip scoring). Two real libp2p nodes; the second restarts
 * on its data dir. A node that unsubscribed its topics while still connected left each peer a
 * 10 s unsubscribe backoff: its restarted self's first GRAFT was then penalised (P7, one per
 * topic, squared times -10: -160 over the contract's three and discovery) and answered with a PRUNE and a 60 s backoff.
 */

const contract = testContract("restart-mesh", { minMembers: 2 });
const topics = [...GOSSIP_KINDS.map((kind) => gossipTopic(contractId(contract), kind)), DISCOVERY_TOPIC];
let cluster: Cluster;

afterAll(async () => {
  await cluster?.stop();
});

/** The topics on which `node` has `peer` in its mesh (gossipsub's class, not its interface). */
function meshTopicsWith(node: WalrasNode, peer: string): string[] {
  const router = node.host.libp2p.services.pubsub as unknown as { getMeshPeers(topic: string): string[] };
  return topics.filter((t) => router.getMeshPeers(t).includes(peer));
}

describe("a restarted node", () => {
  it("is back in its peer's mesh on every topic without a backoff", async () => {
    const profiles = paperProfiles(2, 3);
    cluster = await startCluster(contract, profiles);
    const [first, second] = cluster.nodes as [WalrasNode, WalrasNode];
    const meshed = async (what: string) =>
      waitFor(() => meshTopicsWith(first, second.peerId).length === topics.length, {
        timeoutMs: 20_000,
        what: `${what}: the first node's mesh to hold the second on all ${topics.length} topics`,
      });
    await meshed("before the restart");

    await second.stop({ leave: false });
    // Well inside both backoffs (10 s for an unsubscribe, 60 s after a penalised GRAFT).
    await cluster.add(profiles[1] as (typeof profiles)[1], { dataDir: join(cluster.root, "node-1") });
    await meshed("after the restart");
  }, 60_000);
});
