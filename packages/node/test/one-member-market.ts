import type { Contract } from "@walras/protocol";
import {
  type Cluster,
  paperProfiles,
  startCluster,
  testContract,
  waitForCertificate,
} from "@walras/test-support";

/**
 * One agent with HTTP on, certified: the dashboard's and API's tests read a live node's routes.
 * Alone below capacity it pays the fixed fee g = 0.25 and no resource price.
 */
export async function startOneMemberMarket(
  name: string,
): Promise<{ contract: Contract; cluster: Cluster; url: string }> {
  const contract = testContract(name, {
    minMembers: 1,
    resources: [{ id: "capacity", capacity: 2 }],
    fees: { perUnit: 0.5, fixed: 0.25 },
  });
  const cluster = await startCluster(contract, paperProfiles(1, 4), { http: { port: 0 } });
  const url = cluster.nodes[0]?.httpUrl as string;
  await waitForCertificate(cluster.nodes);
  return { contract, cluster, url };
}
