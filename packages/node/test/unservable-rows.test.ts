import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromString } from "@libp2p/peer-id";
import { contractId, createAgentMachine, decodeMessage } from "@walras/protocol";
import { paperProfiles, testContract, waitForCertificate } from "@walras/test-support";
import { afterEach, describe, expect, it } from "vitest";
import { createInboundPipeline } from "../src/inbound/inbound-pipeline.ts";
import { createPeerRateLimiter } from "../src/inbound/peer-rate-limiter.ts";
import { createLogger } from "../src/logging/logger.ts";
import { createNodeMetrics } from "../src/metrics/node-metrics.ts";
import { createHost, type Host } from "../src/network/host.ts";
import { requestSync } from "../src/network/sync-protocol.ts";
import { openStore, STORE_FILE } from "../src/store/store.ts";
import { startWalrasNode, type WalrasNode } from "../src/walras-node.ts";
import { captureLog } from "./log-capture.ts";

/**
 * A stored row that no longer decodes (written by another version, or damaged), or that decodes
 * but every node rejects (a bad signature, another contract: blamesResponder), is skipped by the
 * replay; served in a sync answer, it made the asker reject it and blame the honest responder
 * (undecodable bytes are blamed before anything else). Real libp2p: a one-member market's node,
 * stopped, bad rows written straight into its SQLite store, restarted.
 */

const contract = testContract("unservable-rows", { minMembers: 1 });
const id = contractId(contract);
const dir = mkdtempSync(join(tmpdir(), "walras-unservable-"));
const silent = createLogger({ level: "silent" });
let node: WalrasNode | undefined;
let asker: Host | undefined;

afterEach(async () => {
  await asker?.stop();
  await node?.stop({ leave: false });
  rmSync(dir, { recursive: true, force: true });
});

const start = (logger = silent) =>
  startWalrasNode({
    contract,
    agent: paperProfiles(1, 4)[0],
    dataDir: dir,
    listen: ["/ip4/127.0.0.1/tcp/0"],
    logger,
  });

/** A node that holds no epoch yet, judging a sync answer as a joiner does. */
const freshPipeline = () =>
  createInboundPipeline({
    machine: createAgentMachine({ contract, now: Date.now() }),
    metrics: createNodeMetrics(),
    log: silent,
    limiter: createPeerRateLimiter(1_000),
    accept: () => {},
    equivocation: () => {},
    otherBody: () => {},
    wake: () => {},
    now: () => Date.now(),
  });

describe("a stored row that no longer decodes, or that every node rejects", () => {
  it("is not served after a restart, so an asker has nothing to blame the responder for", async () => {
    node = await start();
    await waitForCertificate([node]);
    await node.stop({ leave: false });

    const store = openStore(dir);
    const demands = store.messages({ epoch: 0, kinds: ["demand"] }).map((m) => m.bytes);
    expect(demands.length).toBeGreaterThan(0);
    // JSON, but no message of this version: what a row of another encoding looks like to it.
    const bad = new TextEncoder().encode('{"kind":"demand","epoch":0}');
    expect(decodeMessage(bad).ok).toBe(false);
    // And one among the epoch's decision, which `decision` requests are answered from.
    const badAccept = new TextEncoder().encode('{"kind":"accept","epoch":0}');
    // Rows that decode but that every node rejects (blamesResponder): a real demand with its
    // signature's first character changed (`bad-signature`), and one naming another contract.
    const forge = (bytes: Uint8Array) => {
      const text = new TextDecoder().decode(bytes);
      const sig = /"sig":"(.)/.exec(text) as RegExpExecArray;
      return new TextEncoder().encode(
        text.replace(`"sig":"${sig[1]}`, `"sig":"${sig[1] === "A" ? "B" : "A"}`),
      );
    };
    const json = new TextDecoder().decode(demands[0]);
    const forged = forge(demands[0] as Uint8Array);
    // The current epoch's own proposal, forged: the machine drops a decision of an epoch it holds
    // as `stale` before the signature check, so only the checks every node shares find it.
    const proposal = store.messages({ epoch: 0, kinds: ["propose"] })[0]?.bytes as Uint8Array;
    const forgedProposal = forge(proposal);
    const otherContract = new TextEncoder().encode(json.replace(id, "0".repeat(64)));
    for (const tampered of [forged, otherContract, forgedProposal])
      expect(decodeMessage(tampered).ok).toBe(true);
    for (const [digest, kind, bytes] of [
      ["f".repeat(64), "demand", bad],
      ["e".repeat(64), "accept", badAccept],
      ["d".repeat(64), "demand", forged],
      ["c".repeat(64), "demand", otherContract],
      ["b".repeat(64), "propose", forgedProposal],
    ] as const)
      store.putMessage({ digest, kind, epoch: 0, round: 0, signer: node.peerId, bytes, receivedAt: 0 });
    store.close();

    const { logger, lines } = captureLog();
    node = await start(logger);
    expect(lines.filter((l) => /do not decode/.test(l.msg))).toMatchObject([
      { store: join(dir, STORE_FILE), undecodable: 2, broken: 3 },
    ]);

    asker = await createHost({
      privateKey: await generateKeyPair("Ed25519"),
      listen: ["/ip4/127.0.0.1/tcp/0"],
      bootstrap: [node.multiaddrs()[0] as string],
    });
    await asker.bootstrapped;
    const answer = await requestSync(asker.libp2p, peerIdFromString(node.peerId), {
      type: "messages",
      contractId: id,
      epoch: 0,
      kinds: ["demand"],
    });
    // The asker judges the answer as a node does: the responder is blamed ("reject") for none.
    const pipeline = freshPipeline();
    const verdicts = answer.messages.map((m) =>
      pipeline.synced(Buffer.from(m, "base64"), node?.peerId as string, { kinds: ["demand"] }),
    );
    expect(verdicts).not.toContain("reject");
    const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");
    for (const unservable of [bad, forged, otherContract])
      expect(answer.messages).not.toContain(base64(unservable));
    expect([...answer.messages].sort()).toEqual(demands.map(base64).sort());
    const decision = await requestSync(asker.libp2p, peerIdFromString(node.peerId), {
      type: "decision",
      contractId: id,
      epoch: 0,
    });
    expect(decision.messages.length).toBeGreaterThan(0);
    expect(decision.messages).not.toContain(base64(badAccept));
    expect(decision.messages).not.toContain(base64(forgedProposal));
    // A joiner judging the decision answer blames the responder for none of it.
    const joiner = freshPipeline();
    const judged = decision.messages.map((m) =>
      joiner.synced(Buffer.from(m, "base64"), node?.peerId as string, {
        kinds: ["propose", "accept", "view"],
      }),
    );
    expect(judged).not.toContain("reject");
  }, 60_000);
});
