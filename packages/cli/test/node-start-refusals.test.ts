import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cliFailure, runCli, startCliNode } from "@walras/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * `walras node start` refusing to start, as real processes on real ports: each refusal is one
 * line naming the flag, file or address to change, and the process exits (a start that failed
 * part-way once left libp2p running and never exited: these tests then time out).
 */

let dir: string;
const f = (name: string) => join(dir, name);
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "walras-cli-refusals-"));
  writeFileSync(
    f("contract.json"),
    JSON.stringify({
      name: "refusals",
      resources: [{ id: "capacity", capacity: 5 }],
      fees: { perUnit: 0.5, fixed: 0 },
      timeouts: { roundMs: 1000, announceMs: 200 },
    }),
  );
  writeFileSync(
    f("agent.json"),
    JSON.stringify({
      valuation: { kind: "log", alpha: 10 },
      cost: { kind: "linear", beta: 1 },
      footprint: [1],
    }),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A TCP port held open by this test process for the duration of `use`. */
async function withTakenPort(use: (port: number) => Promise<void>): Promise<void> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    await use((server.address() as { port: number }).port);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const start = (dataDir: string, ...more: string[]) => [
  "node",
  "start",
  "--contract",
  f("contract.json"),
  "--data-dir",
  dataDir,
  "--listen",
  "/ip4/127.0.0.1/tcp/0",
  ...more,
];

describe("node start: listeners it cannot open", () => {
  it("an HTTP port in use: exits 1, naming the address and --http, and frees its data dir", async () => {
    await withTakenPort(async (port) => {
      const line = await cliFailure(start(f("http-taken"), "--http", String(port)), 1);
      expect(line).toBe(`127.0.0.1:${port}: address in use; choose another --http port`);
    });
    expect(existsSync(join(f("http-taken"), "walras.lock"))).toBe(false);
  }, 90_000);

  it("an --http-host that is not this machine's, or no host at all: exit 2 naming --http-host", async () => {
    const [absent, unknown] = await Promise.all([
      cliFailure(start(f("http-absent"), "--http", "0", "--http-host", "10.99.99.99"), 2),
      cliFailure(start(f("http-unknown"), "--http", "0", "--http-host", "bogus.invalid"), 2),
    ]);
    expect(absent).toBe("--http-host 10.99.99.99: not an address of this machine");
    expect(unknown).toMatch(/^--http-host bogus\.invalid: host name not found \(E[A-Z_]+\)$/);
  }, 90_000);

  it("a libp2p port in use: exit 1, one line naming the address and --listen", async () => {
    await withTakenPort(async (port) => {
      const line = await cliFailure(
        ["node", "start", "--contract", f("contract.json"), "--data-dir", f("p2p-taken")].concat([
          "--listen",
          `/ip4/127.0.0.1/tcp/${port}`,
        ]),
        1,
      );
      expect(line).toBe(`/ip4/127.0.0.1/tcp/${port}: address in use; choose another --listen`);
    });
  }, 90_000);
});

describe("node start: paths that are not what the flag needs", () => {
  it("--data-dir naming a file, --key naming a directory: exit 2 naming the path", async () => {
    writeFileSync(f("a-file"), "x");
    mkdirSync(f("a-dir"));
    const [data, key] = await Promise.all([
      cliFailure(start(f("a-file")), 2),
      cliFailure(start(f("key-dir-data"), "--key", f("a-dir")), 2),
    ]);
    expect(data).toBe(`${f("a-file")}: not a directory; use another --data-dir`);
    expect(key).toBe(`${f("a-dir")}: not a valid walras key file (it is a directory)`);
  }, 90_000);
});

describe("node start: one node per data dir", () => {
  it("a second node on a running node's data dir exits 2 naming the first's pid; once it stops, the dir is free", async () => {
    const data = f("shared");
    const first = await startCliNode(start(data, "--http", "0"));
    try {
      const line = await cliFailure(start(data, "--http", "0"), 2);
      expect(line).toBe(`${data}: in use by another walras node (pid ${first.process.child.pid})`);
    } finally {
      await first.process.stop();
    }
    expect(existsSync(join(data, "walras.lock"))).toBe(false);
    const again = await startCliNode(start(data, "--http", "0"));
    expect(again.peerId).toBe(first.peerId);
    await again.process.stop();
  }, 120_000);

  it("a lock left by a killed node, or naming a live process that is not the node which wrote it, does not block", async () => {
    const data = f("stale");
    const killed = await startCliNode(start(data, "--http", "0"));
    killed.process.child.kill("SIGKILL");
    expect(await killed.process.exited).toBe("SIGKILL");
    const left = JSON.parse(readFileSync(join(data, "walras.lock"), "utf8")) as { pid: number };
    expect(left.pid).toBe(killed.process.child.pid);
    const restarted = await startCliNode(start(data, "--http", "0"));
    await restarted.process.stop();
    // This test process is alive, but it is not the process that wrote the lock (another start
    // time): a pid reused after a crash, or a container restarted in a new pid namespace.
    writeFileSync(join(data, "walras.lock"), JSON.stringify({ pid: process.pid, started: "another:1" }));
    const reused = await startCliNode(start(data, "--http", "0"));
    await reused.process.stop();
  }, 180_000);
});

describe("node start: the contract's allowlist", () => {
  it("an --agent node whose peer id is not on the allowlist exits 2 naming the peer id and the contract file; an observer starts", async () => {
    const [listed, stranger] = await Promise.all([
      runCli(["keygen", "--out", f("listed.key")]),
      runCli(["keygen", "--out", f("stranger.key")]),
    ]);
    const listedId = listed.stdout.trim();
    const strangerId = stranger.stdout.trim();
    const made = await runCli([
      "contract",
      "create",
      "--capacity",
      "5",
      "--allowlist",
      listedId,
      "--out",
      f("allow.json"),
    ]);
    expect(made.code, made.stderr).toBe(0);
    const args = (key: string, data: string) => [
      "node",
      "start",
      "--contract",
      f("allow.json"),
      "--key",
      f(key),
      "--data-dir",
      f(data),
      "--listen",
      "/ip4/127.0.0.1/tcp/0",
      "--http",
      "0",
    ];
    const line = await cliFailure([...args("stranger.key", "stranger"), "--agent", f("agent.json")], 2);
    expect(line).toBe(
      `${strangerId}: not on the allowlist of ${f("allow.json")}; an --agent node must be (or start without --agent to observe)`,
    );
    const observer = await startCliNode(args("stranger.key", "observer"));
    expect(observer.peerId).toBe(strangerId);
    await observer.process.stop();
    const member = await startCliNode([...args("listed.key", "listed"), "--agent", f("agent.json")]);
    expect(member.peerId).toBe(listedId);
    await member.process.stop();
  }, 180_000);
});
