import { type ChildProcess, spawn } from "node:child_process";
import { flushCompileCache } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { createLogger, NODE_HEAP_FLAGS, type NodeStatus, startWalrasNode } from "@walras/node";
import { type AgentProfile, type Contract, contractSchema } from "@walras/protocol";

/**
 * A walras node in its own OS process, for faults a process can suffer (SIGKILL mid-write) and
 * an in-process node cannot. Run as a script it starts one node from a JSON config given as its
 * argument and prints one JSON line {peerId, multiaddr, httpUrl} once it is up; imported, it
 * spawns such processes and reads their /status.
 */
export interface NodeProcessConfig {
  readonly contract: Contract;
  readonly profile: AgentProfile;
  readonly dataDir: string;
  readonly bootstrap?: readonly string[];
  /** Fixed TCP port, so a restarted node is found at the address the others already know. */
  readonly port?: number;
}

export interface SpawnNodeOptions {
  /** How long the process gets to print that it is up. Default 30 s; a loaded machine needs more. */
  readonly startTimeoutMs?: number;
}

export interface NodeProcess {
  readonly peerId: string;
  readonly multiaddr: string;
  readonly httpUrl: string;
  readonly child: ChildProcess;
  /** Resolves when the process has exited (by any means). */
  readonly exited: Promise<void>;
  status(): Promise<NodeStatus>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function spawnNode(
  config: NodeProcessConfig,
  options: SpawnNodeOptions = {},
): Promise<NodeProcess> {
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const child = spawn(process.execPath, [...NODE_HEAP_FLAGS, import.meta.filename, JSON.stringify(config)], {
    stdio: ["ignore", "pipe", "inherit"],
    // As the walras command does (bin/walras): the processes start from V8's cached compiled code.
    env: { NODE_COMPILE_CACHE: join(tmpdir(), "node-compile-cache"), ...process.env },
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const lines = createInterface({ input: child.stdout as NonNullable<typeof child.stdout> });
  const ready = await new Promise<{ peerId: string; multiaddr: string; httpUrl: string }>(
    (resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`node process did not start within ${startTimeoutMs / 1000} s`)),
        startTimeoutMs,
      );
      lines.once("line", (line) => {
        clearTimeout(timer);
        resolve(JSON.parse(line));
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`node process exited with ${code} before starting`));
      });
    },
  ).catch(async (err) => {
    child.kill("SIGKILL");
    await exited;
    throw err;
  });
  return {
    ...ready,
    child,
    exited,
    status: async () => (await (await fetch(`${ready.httpUrl}/status`)).json()) as NodeStatus,
    kill: async (signal = "SIGKILL") => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

async function main(json: string): Promise<void> {
  const config = JSON.parse(json) as NodeProcessConfig;
  const node = await startWalrasNode({
    contract: contractSchema.parse(config.contract),
    agent: config.profile,
    dataDir: config.dataDir,
    listen: [`/ip4/127.0.0.1/tcp/${config.port ?? 0}`],
    bootstrap: [...(config.bootstrap ?? [])],
    http: { port: 0, host: "127.0.0.1" },
    logger: createLogger({ level: process.env.WALRAS_TEST_LOG ?? "silent", fd: 2 }),
  });
  flushCompileCache(); // a bench kills its nodes: write the compiled code out while we can
  const multiaddr = node.multiaddrs().find((a) => a.includes("/tcp/")) as string;
  process.stdout.write(`${JSON.stringify({ peerId: node.peerId, multiaddr, httpUrl: node.httpUrl })}\n`);
  const stop = () => void node.stop().then(() => process.exit(0));
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

if (import.meta.main) {
  const arg = process.argv[2];
  if (!arg) {
    process.stderr.write("usage: node-process.ts '<json config>'\n");
    process.exit(2);
  }
  main(arg).catch((err: unknown) => {
    process.stderr.write(`node process: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
