import { chmod, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { contractSchema } from "@walras/protocol";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadOrCreateKey } from "../src/identity/key-file.ts";
import { lockDataDir } from "../src/store/data-dir-lock.ts";
import { openStore, STORE_FILE } from "../src/store/store.ts";
import { startWalrasNode, type WalrasNode } from "../src/walras-node.ts";
import { captureLog } from "./log-capture.ts";
import { waitFor } from "./wait-for.ts";

/** A node's files in its data dir, as it starts and as it stops: a real node, on loopback. */
const contract = contractSchema.parse({
  name: "node-files",
  resources: [{ id: "cpu", capacity: 6 }],
  fees: { perUnit: 0.5, fixed: 0 },
  timeouts: { roundMs: 2000, announceMs: 200 },
});

let dir: string;
let node: WalrasNode | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "walras-node-files-"));
});
afterEach(async () => {
  await node?.stop({ leave: false });
  node = undefined;
  await rm(dir, { recursive: true, force: true });
});

describe("a node's files at start", () => {
  // What an operator may leave open to group or others: named at start, and left as it is.
  it.each([
    {
      what: "the default key file",
      name: "node.key",
      mode: 0o644,
      make: (path: string) => loadOrCreateKey(path),
      line: /key file is readable by others/,
      field: "keyFile",
    },
    {
      what: "the API token file",
      name: "api.token",
      mode: 0o644,
      make: (path: string) => writeFile(path, `${"cd".repeat(32)}\n`),
      line: /API token file is readable by others/,
      field: "tokenFile",
    },
    {
      what: "an existing data dir",
      name: "",
      mode: 0o755,
      make: async () => {},
      line: /data dir is open to group or others/,
      field: "dataDir",
    },
  ])("names $what when group or others may read it, and leaves it as it is", async (open) => {
    const path = join(dir, open.name);
    await open.make(path);
    await chmod(path, open.mode);
    const before = open.name === "" ? null : await readFile(path);
    const { logger, lines } = captureLog();
    node = await startWalrasNode({ contract, dataDir: dir, listen: ["/ip4/127.0.0.1/tcp/0"], logger });
    expect(lines.filter((l) => open.line.test(l.msg))).toMatchObject([{ [open.field]: path }]);
    expect((await stat(path)).mode & 0o777).toBe(open.mode);
    if (before) expect(await readFile(path)).toEqual(before);
    // The store's own files stay private in a data dir others may enter.
    expect((await stat(join(dir, "walras.sqlite"))).mode & 0o777).toBe(0o600);
  });

  it("makes a new data dir 0700 and every file in it 0600: the store holds the agent's private bid", async () => {
    const dataDir = join(dir, "new", "data");
    const { logger, lines } = captureLog();
    node = await startWalrasNode({ contract, dataDir, listen: ["/ip4/127.0.0.1/tcp/0"], logger });
    const mode = async (name: string) => ((await stat(join(dataDir, name))).mode & 0o777).toString(8);
    expect(await mode("")).toBe("700");
    for (const file of [
      "walras.sqlite",
      "walras.sqlite-wal",
      "walras.sqlite-shm",
      "walras.lock",
      "node.key",
      "api.token",
    ])
      expect(await mode(file), file).toBe("600");
    expect(lines.filter((l) => /data dir is open/.test(l.msg))).toEqual([]);
  });

  it("names an empty store file found beside an existing key: the node has no record of what it signed", async () => {
    const keyFile = join(dir, "node.key");
    await loadOrCreateKey(keyFile);
    // What a disk that filled, or a bad restore, can leave; SQLite opens it as a new database.
    await writeFile(join(dir, STORE_FILE), "");
    const { logger, lines } = captureLog();
    node = await startWalrasNode({ contract, dataDir: dir, listen: ["/ip4/127.0.0.1/tcp/0"], logger });
    expect(lines.filter((l) => /store file was empty/.test(l.msg))).toMatchObject([
      { store: join(dir, STORE_FILE), keyFile, msg: expect.stringMatching(/no record of what it signed/) },
    ]);
  });

  it("says how many stored messages no longer decode, naming the store", async () => {
    const store = openStore(dir);
    for (const digest of ["x1", "x2"])
      store.putMessage({
        digest,
        kind: "demand",
        epoch: 0,
        round: 0,
        signer: "nobody",
        bytes: new TextEncoder().encode("not a message"),
        receivedAt: 0,
      });
    store.close();
    const { logger, lines } = captureLog();
    node = await startWalrasNode({ contract, dataDir: dir, listen: ["/ip4/127.0.0.1/tcp/0"], logger });
    expect(lines.filter((l) => /do not decode/.test(l.msg))).toMatchObject([
      { store: join(dir, STORE_FILE), undecodable: 2 },
    ]);
  });

  it("refuses to start on a malformed token file, naming it, and leaves it as it was", async () => {
    const tokenFile = join(dir, "api.token");
    await writeFile(tokenFile, "not a token\n");
    const { logger } = captureLog();
    await expect(
      startWalrasNode({ contract, dataDir: dir, listen: ["/ip4/127.0.0.1/tcp/0"], logger }),
    ).rejects.toThrow(`${tokenFile}: not a walras API token file (`);
    expect(await readFile(tokenFile, "utf8")).toBe("not a token\n");
  });
});

describe("a start that fails part-way", () => {
  it("on an HTTP port in use (after it subscribed), throws a ListenError and frees its libp2p port and data dir: the next start on both works", async () => {
    const { createServer } = await import("node:net");
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as { port: number }).port;
    // A libp2p port both starts listen on: the second fails unless the first closed its listener.
    const spare = createServer();
    await new Promise<void>((resolve) => spare.listen(0, "127.0.0.1", resolve));
    const listen = [`/ip4/127.0.0.1/tcp/${(spare.address() as { port: number }).port}`];
    await new Promise<void>((resolve) => spare.close(() => resolve()));
    const { logger } = captureLog();
    try {
      await expect(
        startWalrasNode({ contract, dataDir: dir, listen, logger, http: { port } }),
      ).rejects.toMatchObject({
        name: "ListenError",
        listener: "http",
        code: "EADDRINUSE",
      });
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
    node = await startWalrasNode({ contract, dataDir: dir, listen, logger });
    expect(node.multiaddrs()[0]).toBe(`${listen[0]}/p2p/${node.peerId}`);
  });

  /** A node on this test's data dir, listening on loopback. */
  const startHere = (more: Omit<Parameters<typeof startWalrasNode>[0], "contract" | "dataDir">) =>
    startWalrasNode({ contract, dataDir: dir, listen: ["/ip4/127.0.0.1/tcp/0"], ...more });

  /** A port on loopback that something else listens on, and its closer. */
  async function takenPort(): Promise<{ port: number; close: () => Promise<void> }> {
    const { createServer } = await import("node:net");
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
      port: (server.address() as { port: number }).port,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }

  // What each start acquired, released newest first (undo-stack.ts): the host stops before gossip
  // leaves its topics, the writer flushes before the store closes, the lock goes last.
  it.each([
    {
      step: "the key file (unreadable)",
      fail: async () => {
        const keyFile = join(dir, "bad.key");
        await writeFile(keyFile, "not a key");
        return { init: { keyFile }, error: "InvalidKeyFileError", release: async () => {} };
      },
      released: ["store", "lock"],
    },
    {
      step: "the libp2p listener (port in use)",
      fail: async () => {
        const taken = await takenPort();
        return {
          init: { listen: [`/ip4/127.0.0.1/tcp/${taken.port}`] },
          error: "ListenError",
          release: taken.close,
        };
      },
      released: ["gossip", "writer", "store", "lock"],
    },
    {
      step: "the HTTP listener (port in use)",
      fail: async () => {
        const taken = await takenPort();
        return { init: { http: { port: taken.port } }, error: "ListenError", release: taken.close };
      },
      released: ["peer-listeners", "sync", "driver", "host", "gossip", "writer", "store", "lock"],
    },
  ])("failing at $step, releases what it acquired in reverse order; the next start works", async (c) => {
    const { logger, lines } = captureLog("trace");
    const failure = await c.fail();
    try {
      await expect(startHere({ logger, ...failure.init })).rejects.toMatchObject({ name: failure.error });
    } finally {
      await failure.release();
    }
    const released = lines.filter((l) => l.msg === "released a node's resource").map((l) => l.resource);
    expect(released).toEqual(c.released);
    expect(lines.filter((l) => l.msg === "releasing a node's resource failed")).toEqual([]);
    node = await startHere({ logger: pino({ level: "silent" }) });
    expect(node.status().peerId).toBe(node.peerId);
  });

  it("serves HTTP within the limits it is given, counts refusals in /metrics, and refuses unusable limits", async () => {
    const { logger, lines } = captureLog();
    await expect(
      startHere({ logger, http: { port: 0, limits: { headersTimeoutMs: 5_000, requestTimeoutMs: 1_000 } } }),
    ).rejects.toMatchObject({ name: "HttpLimitsError", limit: "headersTimeoutMs" });
    node = await startHere({ logger, http: { port: 0, limits: { maxConnections: 1 } } });
    const url = new URL(node.httpUrl as string);
    const held = connect(Number(url.port), "127.0.0.1");
    held.on("error", () => {});
    await new Promise<void>((resolve) => held.once("connect", () => resolve()));
    // The one place is held: the next connection is answered 503 and closed.
    await waitFor("a connection over the cap refused", async () => {
      const res = await fetch(`${node?.httpUrl}/healthz`).catch(() => null);
      return res?.status === 503;
    });
    held.destroy();
    let metrics = "";
    await waitFor("the place given back", async () => {
      const res = await fetch(`${node?.httpUrl}/metrics`);
      metrics = await res.text();
      return res.status === 200;
    });
    expect(metrics).toMatch(/^walras_http_refused_total\{reason="connections"\} [1-9]/m);
    expect(lines.filter((l) => l.reason === "connections")).toHaveLength(1);
  });

  it("refuses an agent whose peer id the allowlist leaves out, before it listens; an observer starts", async () => {
    const key = await loadOrCreateKey(join(dir, "node.key"));
    const allowlisted = contractSchema.parse({
      ...contract,
      membership: { policy: "allowlist", members: ["12D3KooWFW7wJziHuuunfEon48aeTdSDcdhzFDca7TiaH48eEo2o"] },
    });
    const agent = {
      valuation: { kind: "log", alpha: 10 },
      cost: { kind: "linear", beta: 1 },
      footprint: [1],
    };
    const { logger } = captureLog();
    await expect(
      startWalrasNode({
        contract: allowlisted,
        agent: agent as never,
        dataDir: dir,
        listen: ["/ip4/127.0.0.1/tcp/0"],
        logger,
      }),
    ).rejects.toThrow(`${key.peerId.toString()}: not on the contract's allowlist`);
    node = await startWalrasNode({
      contract: allowlisted,
      dataDir: dir,
      listen: ["/ip4/127.0.0.1/tcp/0"],
      logger,
    });
    expect(node.peerId).toBe(key.peerId.toString());
  });
});

describe("stopping a node", () => {
  it("stops once when stop() is called twice at once: both calls resolve once the store and lock are released", async () => {
    const { logger, lines } = captureLog();
    logger.level = "info";
    const started = await startWalrasNode({
      contract,
      dataDir: dir,
      listen: ["/ip4/127.0.0.1/tcp/0"],
      logger,
    });
    const first = started.stop({ leave: false });
    const second = started.stop({ leave: false });
    await second;
    // The lock is free by the time the second call resolves, not only the first.
    lockDataDir(dir).release();
    await first;
    expect(lines.filter((l) => l.msg === "walras node stopped")).toHaveLength(1);
    expect(lines.filter((l) => l.msg === "releasing a node's resource failed")).toEqual([]);
  });

  it("closes the store and releases the data dir when the host's stop throws", async () => {
    const started = await startWalrasNode({
      contract,
      dataDir: dir,
      listen: ["/ip4/127.0.0.1/tcp/0"],
      logger: pino({ level: "silent" }),
    });
    const stopHost = started.host.stop.bind(started.host);
    (started.host as { stop: () => Promise<void> }).stop = async () => {
      await stopHost();
      throw new Error("host stop failed");
    };
    await expect(started.stop({ leave: false })).rejects.toThrow("host stop failed");
    // The lock is free again: a node may start on this data dir.
    lockDataDir(dir).release();
  });
});
