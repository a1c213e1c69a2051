import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  contractId,
  createSigner,
  type DemandMessage,
  type EquivocationProof,
  type JoinMessage,
  PROTOCOL_VERSION,
  paperProfiles,
  type Signer,
  signMessage,
  type Unsigned,
} from "@walras/protocol";
import { type HostilePeer, startHostilePeer, testContract } from "@walras/test-support";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadOrCreateKey } from "../src/identity/key-file.ts";
import { recordConviction } from "../src/store/conviction-record.ts";
import { openStore, STORE_FILE } from "../src/store/store.ts";
import { startWalrasNode, type WalrasNode } from "../src/walras-node.ts";
import { captureLog } from "./log-capture.ts";
import { waitFor } from "./wait-for.ts";

/**
 * docs/protocol.md §10: the proofs a node convicted agents on outlive a restart. Its store holds
 * one message per slot, so replay alone does not give them back: a real node on loopback, stopped
 * and started again on its data dir, with the conviction record written in between as a crash
 * would have left it (the machine recorded it; no plan carrying the proof was decided yet).
 */
const contract = testContract("conviction-record", {
  minMembers: 1,
  timeouts: { roundMs: 2000, announceMs: 200 },
});
const cid = contractId(contract);

function demand(signer: Signer, x: number): DemandMessage {
  return signMessage<DemandMessage>(
    {
      v: PROTOCOL_VERSION,
      kind: "demand",
      contract: cid,
      agent: signer.id,
      epoch: 0,
      round: 0,
      prices: [...contract.initialPrices],
      x,
      slope: -1,
      footprint: [1],
    } as Unsigned<DemandMessage>,
    signer,
  );
}

function join_(signer: Signer, epoch: number): JoinMessage {
  return signMessage<JoinMessage>(
    {
      v: PROTOCOL_VERSION,
      kind: "join",
      contract: cid,
      agent: signer.id,
      epoch,
      seq: 1,
    } as Unsigned<JoinMessage>,
    signer,
  );
}

let dir: string;
let node: WalrasNode | undefined;
const peers: HostilePeer[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "walras-conviction-"));
});
afterEach(async () => {
  for (const p of peers.splice(0)) await p.stop();
  await node?.stop({ leave: false });
  node = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** A key file for a hostile peer named `name`, made first so a proof can be signed with its key. */
async function peerKey(name: string): Promise<Signer> {
  const key = await loadOrCreateKey(join(dir, `${name}.key`));
  return createSigner(key.privateKey.raw);
}

describe("the conviction record (store/conviction-record.ts)", () => {
  it("a node restarted on its data dir still holds the proof and never admits the convicted key; another joiner is admitted", async () => {
    const dataDir = join(dir, "node");
    const agent = paperProfiles(1, 5)[0];
    const silent = pino({ level: "silent" });
    node = await startWalrasNode({
      contract,
      agent,
      dataDir,
      listen: ["/ip4/127.0.0.1/tcp/0"],
      logger: silent,
    });
    await waitFor("the founder in epoch 0", () => node?.status().epoch === 0);
    await node.stop({ leave: false });

    const liar = await peerKey("liar");
    const proof: EquivocationProof = [demand(liar, 1), demand(liar, 1.5)];
    const store = openStore(dataDir);
    recordConviction(store, proof);
    store.close();

    const { logger, lines } = captureLog();
    node = await startWalrasNode({ contract, agent, dataDir, listen: ["/ip4/127.0.0.1/tcp/0"], logger });
    const restarted = node;
    expect(restarted.status().equivocations.map((e) => e.agent)).toEqual([liar.id]);
    expect(lines.filter((l) => /equivocation proof dropped/.test(l.msg))).toEqual([]);

    const [liarPeer, otherPeer] = await Promise.all(
      ["liar", "other"].map((name) =>
        startHostilePeer({
          contractId: cid,
          targets: restarted.multiaddrs(),
          targetIds: [restarted.peerId],
          dir,
          name,
        }),
      ),
    );
    peers.push(liarPeer as HostilePeer, otherPeer as HostilePeer);
    const epoch = restarted.status().epoch as number;
    const accepted = new Set<string>();
    restarted.onMessage((m) => {
      if (m.kind === "join") accepted.add(m.agent);
    });
    // The liar's join first: before the record, it was the first joiner heard and was admitted.
    await (liarPeer as HostilePeer).sendMessage("membership", join_(liar, epoch));
    await waitFor("the liar's join accepted", () => accepted.has(liar.id));
    await (otherPeer as HostilePeer).sendMessage(
      "membership",
      join_((otherPeer as HostilePeer).signer, epoch),
    );
    const otherId = (otherPeer as HostilePeer).signer.id;
    await waitFor("the other joiner admitted", () => restarted.status().members.includes(otherId));
    expect(restarted.status().members).not.toContain(liar.id);
    expect(restarted.status().pendingJoins).not.toContain(liar.id);
  }, 60_000);

  it("a stored proof that no longer holds is dropped with a line naming the store file and the agent; the node starts", async () => {
    const liar = await peerKey("liar");
    const forged: DemandMessage = { ...demand(liar, 1.5), sig: demand(liar, 1).sig };
    const store = openStore(dir);
    recordConviction(store, [demand(liar, 1), forged]);
    store.close();
    const { logger, lines } = captureLog();
    node = await startWalrasNode({ contract, dataDir: dir, listen: ["/ip4/127.0.0.1/tcp/0"], logger });
    expect(lines.filter((l) => /equivocation proof dropped/.test(l.msg))).toMatchObject([
      { store: join(dir, STORE_FILE), agent: liar.id, problem: expect.stringMatching(/does not verify/) },
    ]);
    expect(node.status().equivocations).toEqual([]);
  });

  it("keeps one proof per agent, the newest `cap` agents", () => {
    const store = openStore(dir);
    const signers = [1, 2, 3].map((i) => createSigner(new Uint8Array(32).fill(i)));
    for (const s of signers)
      store.putConviction({ agent: s.id, first: new Uint8Array([1]), second: new Uint8Array([2]) }, 2);
    // The same agent again: the first proof stays, and it pushes no one out.
    store.putConviction(
      { agent: (signers[2] as Signer).id, first: new Uint8Array([3]), second: new Uint8Array([4]) },
      2,
    );
    expect(store.convictions()).toEqual([
      { agent: (signers[1] as Signer).id, first: new Uint8Array([1]), second: new Uint8Array([2]) },
      { agent: (signers[2] as Signer).id, first: new Uint8Array([1]), second: new Uint8Array([2]) },
    ]);
    store.close();
  });
});
