import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { contractId, contractSchema } from "@walras/protocol";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { startWalrasNode, type WalrasNode } from "../src/walras-node.ts";
import { captureLog } from "./log-capture.ts";
import { waitFor } from "./wait-for.ts";

/** Two real nodes on loopback, the second bootstrapped from the first with another contract. */
const contract = (name: string) =>
  contractSchema.parse({
    name,
    resources: [{ id: "cpu", capacity: 6 }],
    fees: { perUnit: 0.5, fixed: 0 },
    timeouts: { roundMs: 2000, announceMs: 200 },
  });

const nodes: WalrasNode[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop({ leave: false })));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function start(name: string, bootstrap: string[], logger?: pino.Logger): Promise<WalrasNode> {
  const dataDir = await mkdtemp(join(tmpdir(), "walras-bootstrap-contract-"));
  dirs.push(dataDir);
  const node = await startWalrasNode({
    contract: contract(name),
    dataDir,
    listen: ["/ip4/127.0.0.1/tcp/0"],
    bootstrap,
    logger: logger ?? pino({ level: "silent" }),
  });
  nodes.push(node);
  return node;
}

describe("a bootstrap peer serving another contract", () => {
  it("is named in a warning with both contract ids", async () => {
    const a = await start("market-a", []);
    const { logger, lines } = captureLog();
    const b = await start("market-b", [`${a.multiaddrs()[0]}`], logger);
    const warned = () => lines.find((l) => /serves contract/.test(l.msg));
    await waitFor("the contract mismatch warning", () => warned() !== undefined, { timeoutMs: 60_000 });
    expect(warned()).toMatchObject({
      peer: a.peerId,
      theirs: contractId(contract("market-a")),
      ours: contractId(contract("market-b")),
    });
    expect(warned()?.msg).toContain(`bootstrap peer ${a.peerId} serves contract ${a.contractId}`);
    expect(b.contractId).toBe(contractId(contract("market-b")));
  }, 90_000);
});
