import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AgentProfile, agentProfileSchema, canonicalJson, contractSchema } from "@walras/protocol";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BIDS_KEY } from "../src/store/bid-record.ts";
import { openStore } from "../src/store/store.ts";
import { startWalrasNode, type WalrasNode } from "../src/walras-node.ts";
import { waitFor } from "./wait-for.ts";

/**
 * The composition root keeps the agent's bid record (store/bid-record.ts): a bid saved through the
 * API, or a changed agent file, is recorded with the first epoch it applies to — the one after the
 * epoch current when it changed — so that a restart runs the current epoch with the bid it started
 * with. A real node, alone in its market, on loopback.
 */
const contract = contractSchema.parse({
  name: "node-bids",
  resources: [{ id: "cpu", capacity: 6 }],
  fees: { perUnit: 0.5, fixed: 0 },
  timeouts: { roundMs: 2000, announceMs: 200 },
});

const bid = (alpha: number): AgentProfile =>
  agentProfileSchema.parse({
    valuation: { kind: "log", alpha },
    cost: { kind: "linear", beta: 1 },
    footprint: [1],
  });

let dir: string;
let node: WalrasNode | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "walras-node-bids-"));
});
afterEach(async () => {
  await node?.stop({ leave: false });
  node = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function start(agent: AgentProfile): Promise<WalrasNode> {
  node = await startWalrasNode({
    contract,
    dataDir: dir,
    agent,
    listen: ["/ip4/127.0.0.1/tcp/0"],
    http: { port: 0 },
    logger: pino({ level: "silent" }),
  });
  const started = node;
  await waitFor("a certificate", () => started.status().certificate !== null);
  return started;
}

async function stop(): Promise<void> {
  await node?.stop({ leave: false });
  node = undefined;
}

async function api(method: "GET" | "PUT", body?: unknown): Promise<unknown> {
  const token = (await readFile(join(dir, "api.token"), "utf8")).trim();
  const res = await fetch(`${node?.httpUrl}/agent`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  expect(res.status).toBe(200);
  return res.json();
}

function record(): unknown {
  const store = openStore(dir);
  try {
    return store.loadState(BIDS_KEY);
  } finally {
    store.close();
  }
}

describe("a node's bid record", () => {
  it("records an API bid from the epoch after the current one, and an agent file changed while down from the epoch after the replayed one", async () => {
    const file = bid(10);
    let n = await start(file);
    const changedIn = n.status().epoch as number;
    await api("PUT", bid(20));
    await stop();
    expect(record()).toEqual({
      file: canonicalJson(file),
      bids: [
        { from: 0, profile: file },
        { from: changedIn + 1, profile: bid(20) },
      ],
    });

    const edited = bid(30);
    n = await start(edited);
    expect(await api("GET")).toEqual(edited);
    await stop();
    const after = record() as { file: string; bids: { from: number; profile: AgentProfile }[] };
    expect(after.file).toBe(canonicalJson(edited));
    expect(after.bids.at(-1)?.profile).toEqual(edited);
    expect(after.bids.at(-1)?.from).toBeGreaterThan(changedIn);

    // Unchanged since, the file's bid is the record's: the next start keeps it.
    await start(edited);
    expect(await api("GET")).toEqual(edited);
    await stop();
    expect(record()).toEqual(after);
  });
});
