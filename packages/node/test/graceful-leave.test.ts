import {
  type Cluster,
  paperProfiles,
  startCluster,
  testContract,
  waitForCertificate,
} from "@walras/test-support";
import { afterEach, describe, expect, it } from "vitest";

/**
 * docs/protocol.md §9.4 over real libp2p: a node stopped with a graceful leave stays until the
 * member that goes on holds the epoch without it, then its stop ends, and that member goes on alone.
 */

const contract = testContract("graceful-leave", { minMembers: 2 });
let cluster: Cluster | undefined;

afterEach(async () => {
  await cluster?.stop();
});

describe("a graceful stop in a market of two", () => {
  it("ends, and the member that stays certifies an epoch of its own", async () => {
    const network = await startCluster(contract, paperProfiles(2, 11));
    cluster = network;
    await waitForCertificate(network.nodes);
    const [stays, leaver] = network.nodes;
    if (!stays || !leaver) throw new Error("two nodes expected");
    await leaver.stop();
    await waitForCertificate([stays]);
    expect(stays.certificate()?.commit.members).toEqual([stays.peerId]);
  });
});
