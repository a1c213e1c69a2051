import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { contractSchema } from "@walras/protocol";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lockDataDir } from "../src/store/data-dir-lock.ts";
import { startWalrasNode } from "../src/walras-node.ts";

/** A real node on loopback whose host fails to stop: the rest of the node still stops. */
const contract = contractSchema.parse({
  name: "node-stop",
  resources: [{ id: "cpu", capacity: 6 }],
  fees: { perUnit: 0.5, fixed: 0 },
  timeouts: { roundMs: 2000, announceMs: 200 },
});

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "walras-node-stop-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("stopping a node", () => {
  it("closes the store and releases the data dir when the host's stop throws", async () => {
    const logger = pino({ level: "silent" });
    const node = await startWalrasNode({ contract, dataDir: dir, listen: ["/ip4/127.0.0.1/tcp/0"], logger });
    const stopHost = node.host.stop.bind(node.host);
    (node.host as { stop: () => Promise<void> }).stop = async () => {
      await stopHost();
      throw new Error("host stop failed");
    };
    await expect(node.stop({ leave: false })).rejects.toThrow("host stop failed");
    // The lock is free again: a node may start on this data dir.
    lockDataDir(dir).release();
  });
});
