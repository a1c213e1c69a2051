import {
  type Contract,
  contractId,
  type EpochPlan,
  PROTOCOL_VERSION,
  type ProposeMessage,
  signMessage,
} from "@walras/protocol";
import {
  type Cluster,
  type HostilePeer,
  paperProfiles,
  rejectedCount,
  startCluster,
  startHostilePeer,
  testContract,
  waitFor,
} from "@walras/test-support";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";

/**
 * docs/protocol.md §9.3 (the founding gate), docs/security.md §2: a stranger's one message, reaching
 * a founder over real libp2p before it founds, only suspends founding. Before, the founder never
 * founded, and its joiner asked forever for a decision nobody held.
 */

// The founder waits for a second agent, so the stranger's message surely comes before it founds.
const contract: Contract = testContract("founding-stranger", { minMembers: 2 });
const id = contractId(contract);
const profiles = paperProfiles(2, 5);
let cluster: Cluster | null = null;
let stranger: HostilePeer | null = null;

afterEach(async () => {
  await stranger?.stop();
  await cluster?.stop();
});

describe("a founder heard a stranger's message of an epoch", () => {
  it("founds after all once its joiner's answers show no decision, and the joiner takes epoch 0", async () => {
    const lines: string[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(line) });
    cluster = await startCluster(contract, []);
    const founder = await cluster.add(profiles[0] as (typeof profiles)[0], { logger });
    stranger = await startHostilePeer({
      contractId: id,
      targets: [founder.multiaddrs()[0] as string],
      targetIds: [founder.peerId],
      dir: cluster.root,
      name: "stranger",
    });
    // Its throwaway key names itself epoch 3's only member and decider.
    const self = [stranger.signer.id];
    const plan: EpochPlan = {
      members: self,
      deciders: self,
      voters: self,
      base: { epoch: 2, round: 0, prices: [0.1] },
      terms: null,
      ledger: null,
      cause: ["join"],
    };
    const propose = signMessage<ProposeMessage>(
      {
        v: PROTOCOL_VERSION,
        kind: "propose",
        contract: id,
        agent: stranger.signer.id,
        epoch: 3,
        view: 0,
        plan,
      },
      stranger.signer,
    );
    await stranger.sendMessage("membership", propose);
    await waitFor(async () => (await rejectedCount(founder, "unasked")) >= 1, {
      what: "the founder to ignore the stranger's proposal as unasked",
    });
    // The stranger's peer serves no sync: its silence must not count, the joiner's empty answers do.
    const joiner = await cluster.add(profiles[1] as (typeof profiles)[1]);
    await waitFor(() => founder.status().epoch === 0 && joiner.status().epoch === 0, {
      timeoutMs: 30_000,
      what: "founder and joiner in epoch 0",
    });
    expect(lines.some((l) => l.includes("founding suspended"))).toBe(true);
    expect(lines.some((l) => l.includes("founding resumed"))).toBe(true);
    expect(founder.status().members).toEqual(joiner.status().members);
    expect(joiner.status().members).toContain(joiner.peerId);
  });
});
