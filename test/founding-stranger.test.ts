import { type Contract, contractId } from "@walras/protocol";
import {
  type Cluster,
  type HostilePeer,
  madeUpDecision,
  paperProfiles,
  rejectedCount,
  startCluster,
  startHostilePeer,
  testContract,
  waitFor,
  waitForCertificate,
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
const profiles = paperProfiles(3, 5);
let cluster: Cluster | null = null;
let stranger: HostilePeer | null = null;

afterEach(async () => {
  await stranger?.stop();
  await cluster?.stop();
});

describe("a founder heard a stranger's message of an epoch", () => {
  it("founds after all once its joiners' answers show no decision, and the joiners take its epoch 0", async () => {
    const lines: string[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(line) });
    cluster = await startCluster(contract, []);
    const founder = await cluster.add(profiles[0] as (typeof profiles)[0], { logger });
    const started: { epoch: number; deciders: readonly string[] }[] = [];
    founder.onAction((a) => {
      if (a.type === "epoch-started") started.push({ epoch: a.epoch, deciders: a.plan.deciders });
    });
    stranger = await startHostilePeer({
      contractId: id,
      targets: [founder.multiaddrs()[0] as string],
      targetIds: [founder.peerId],
      dir: cluster.root,
      name: "stranger",
    });
    // Its throwaway key names itself epoch 3's only member and decider: one propose, no accept.
    const [propose] = madeUpDecision(contract, 3, [stranger.signer]);
    expect(propose?.kind).toBe("propose");
    await stranger.sendMessage("membership", propose as NonNullable<typeof propose>);
    await waitFor(async () => (await rejectedCount(founder, "unasked")) >= 1, {
      what: "the founder to ignore the stranger's proposal as unasked",
    });
    // The stranger's peer serves no sync: its silence must not count, the joiners' empty answers
    // do, from two peers (one peer's answers alone would resume it only after 4 round timeouts).
    const joiners = [
      await cluster.add(profiles[1] as (typeof profiles)[1]),
      await cluster.add(profiles[2] as (typeof profiles)[2]),
    ];
    const nodes = [founder, ...joiners];
    // Not `epoch === 0`: the network moves on to epoch 1 within a heartbeat of founding.
    await waitFor(() => nodes.every((n) => n.status().epoch !== null), {
      timeoutMs: 30_000,
      what: "founder and joiners in an epoch",
    });
    expect(lines.some((l) => l.includes("founding suspended"))).toBe(true);
    expect(lines.some((l) => l.includes("founding resumed"))).toBe(true);
    // Epoch 0 is the founder's own, and the joiners are on its chain: one certificate for all three.
    expect(started[0]).toEqual({ epoch: 0, deciders: [founder.peerId] });
    await waitForCertificate(nodes);
  });
});
