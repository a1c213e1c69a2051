import { multiaddr } from "@multiformats/multiaddr";
import { contractId, createSigner } from "@walras/protocol";
import {
  foundingProposal,
  madeUpDecision,
  paperProfiles,
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
 * docs/protocol.md §9.3, docs/security.md §2 over real libp2p: a node that knows no epoch takes
 * its first one only from answers to its own sync `decision` requests, so a stranger that reaches
 * it first by gossip, with a decided epoch made up of throwaway keys, cannot capture it.
 */

const contract = testContract("first-epoch-gossip", { minMembers: 3 });
const profiles = paperProfiles(4, 7);
const started = startedByTest();
afterEach(() => started.stop());

describe("a fresh node that a stranger gossips to before it meets the network", () => {
  it("ignores the stranger's made-up epoch as unasked, then adopts the real one and reaches its certificate", async () => {
    const network = started.add(await startCluster(contract, profiles.slice(0, 3)));
    await waitForCertificate(network.nodes);
    const real = network.nodes[0]?.status().epoch as number;

    // No bootstrap peer, and not a founder: it waits for a network to find.
    const fresh = await network.add(profiles[3] as (typeof profiles)[0], { bootstrap: [], founder: false });
    const stranger = started.add(
      await startHostilePeer({
        contractId: contractId(contract),
        targets: [fresh.multiaddrs()[0] as string],
        targetIds: [fresh.peerId],
        dir: network.root,
        name: "stranger",
      }),
    );
    const throwaway = [20, 21].map((i) => createSigner(new Uint8Array(32).fill(i)));
    const madeUp = madeUpDecision(contract, real, throwaway);
    for (const m of madeUp) expect(await stranger.sendMessage("membership", m)).toBe(1);
    // Judged either way: without the rule the fresh node adopts the made-up epoch, and then never
    // reaches the real network's certificate.
    await waitFor(
      "the fresh node to judge the stranger's decision",
      async () => (await rejectedCount(fresh, "unasked")) >= madeUp.length || fresh.status().epoch !== null,
    );
    expect(fresh.status().epoch).toBeNull();
    expect(await rejectedCount(fresh, "unasked")).toBe(madeUp.length);

    await fresh.host.libp2p.dial(multiaddr(network.nodes[0]?.multiaddrs()[0] as string));
    await waitForCertificate(network.nodes);
    const members = fresh.certificate()?.commit.members ?? [];
    expect([...members].sort()).toEqual(network.nodes.map((n) => n.peerId).sort());
    for (const k of throwaway) expect(members).not.toContain(k.id);
  });
});

describe("a fresh node and its bootstrap node (docs/protocol.md §9.3)", () => {
  it("takes the founding proposal its bootstrap node sends itself by gossip, not one it sends for another key", async () => {
    const network = started.add(await startCluster(contract, []));
    // A bare libp2p host with a key of its own: it serves no sync, so only gossip can bring its decision.
    const boot = started.add(
      await startHostilePeer({
        contractId: contractId(contract),
        targets: [],
        targetIds: [],
        dir: network.root,
        name: "boot",
      }),
    );
    const bootAddress = `${boot.host.libp2p.getMultiaddrs()[0]?.decapsulate("/p2p").toString()}/p2p/${boot.peerId}`;
    const fresh = await network.add(profiles[0] as (typeof profiles)[0], {
      bootstrap: [bootAddress],
      founder: false,
    });
    await boot.subscribed([fresh.peerId]);

    // Sent by the bootstrap node, but another key's: taken from an answer only.
    const other = foundingProposal(contract, createSigner(new Uint8Array(32).fill(30)));
    expect(await boot.sendMessage("membership", other)).toBe(1);
    await waitFor(
      "the fresh node to judge the other key's proposal",
      async () => (await rejectedCount(fresh, "unasked")) >= 1,
    );
    expect(fresh.status().epoch).toBeNull();

    // Its own: taken as it arrives (without the rule, ignored as unasked, and no answer ever comes).
    expect(await boot.sendMessage("membership", foundingProposal(contract, boot.signer))).toBe(1);
    await waitFor("the fresh node to adopt its bootstrap node's epoch 0", () => fresh.status().epoch === 0);
    expect(fresh.status().members).toEqual([boot.peerId]);
    expect(await rejectedCount(fresh, "unasked")).toBe(1);
  });
});
