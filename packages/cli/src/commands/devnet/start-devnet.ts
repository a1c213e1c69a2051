import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { loadOrCreateKey, parseAnnouncement, withPeerId } from "@walras/node";
import type { AgentProfile, Contract, Scenario, ScenarioAgent } from "@walras/protocol";

/** Node processes started at once (after the founder). */
const STARTS_AT_ONCE = Math.max(4, 2 * availableParallelism());

export interface DevnetInit {
  readonly scenario: Scenario;
  /** The argv that runs `walras node start` (e.g. [process.execPath, ".../bin/walras", "node", "start"]). */
  readonly nodeCommand: readonly [string, ...string[]];
  /** libp2p TCP port of node i is basePort + i; 0 lets each node pick a free one. */
  readonly basePort?: number;
  /** HTTP status port of node i is httpBasePort + i; 0 lets each node pick a free one. */
  readonly httpBasePort?: number;
  /** Where the nodes' data dirs go; a fresh temporary directory by default (removed on stop). */
  readonly root?: string;
  /**
   * pino level of the nodes' logs (node.log in each data dir). Default "info"; the first node
   * logs at "debug" so that its "round closed" lines give the whole price path (see onLog).
   */
  readonly logLevel?: string;
  /** How long each node gets to print its addresses. Default 30 s. */
  readonly startTimeoutMs?: number;
}

export interface DevnetNode {
  /** The scenario's agent id (a1, a2, ...): a name for people; the network knows only peerId. */
  readonly label: string;
  readonly peerId: string;
  readonly profile: AgentProfile;
  readonly dataDir: string;
  readonly logFile: string;
  readonly multiaddr: string;
  readonly httpUrl: string;
  readonly process: ChildProcess;
  /** Each JSON log line the node writes (also kept in logFile). */
  onLog(listener: (entry: Record<string, unknown>) => void): () => void;
}

export interface Devnet {
  readonly root: string;
  readonly contract: Contract;
  readonly contractFile: string;
  /** The nodes running now, in the order they started (addNode appends, stopNode removes). */
  readonly nodes: readonly DevnetNode[];
  /** The first node's address with its peer id: what another node bootstraps from. */
  readonly bootstrap: string;
  /** Starts one more node for `agent`, bootstrapping from the first node still running: a member joining. */
  addNode(agent: ScenarioAgent): Promise<DevnetNode>;
  /** SIGTERM to one node (it announces its leave), SIGKILL after `graceMs`: a member leaving. */
  stopNode(label: string, graceMs?: number): Promise<void>;
  /** Resolves with the first node that exits before stop() was called. */
  readonly unexpectedExit: Promise<{ node: DevnetNode; code: number | null; signal: string | null }>;
  /** SIGTERM to every node (each leaves gracefully), SIGKILL to any still running after `graceMs`. */
  stop(options?: { graceMs?: number; keepFiles?: boolean }): Promise<void>;
}

/** A node that did not come up: its exit or a timeout, with the tail of its log. */
export class DevnetStartError extends Error {}

/**
 * Starts one `walras node start` process per scenario agent on loopback: the first listens, the
 * others bootstrap from it. Keys are made before the processes start, so every agent's peer id
 * (its id on the network) is known up front.
 */
export async function startDevnet(init: DevnetInit): Promise<Devnet> {
  const root = init.root ?? mkdtempSync(join(tmpdir(), "walras-devnet-"));
  const ownsRoot = init.root === undefined;
  mkdirSync(root, { recursive: true });
  const contract = init.scenario.contract;
  const contractFile = join(root, "contract.json");
  writeFileSync(contractFile, `${JSON.stringify(contract, null, 2)}\n`);
  const nodes: DevnetNode[] = [];
  let stopping = false;
  let reportExit: (e: { node: DevnetNode; code: number | null; signal: string | null }) => void = () => {};
  const unexpectedExit = new Promise<{ node: DevnetNode; code: number | null; signal: string | null }>(
    (r) => {
      reportExit = r;
    },
  );

  const stopped = new Set<ChildProcess>();
  let launched = 0;
  const launch = async (agent: ScenarioAgent, bootstrap: readonly string[]): Promise<DevnetNode> => {
    const index = launched++;
    const { id: label, ...profile } = agent;
    const dataDir = join(root, label);
    // Owner only, as the node makes it: the store will hold the agent's private bid.
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const agentFile = join(dataDir, "agent.json");
    writeFileSync(agentFile, `${JSON.stringify(profile, null, 2)}\n`);
    const key = await loadOrCreateKey(join(dataDir, "node.key"));
    const peerId = key.peerId.toString();
    const port = init.basePort ? init.basePort + index : 0;
    const httpPort = init.httpBasePort ? init.httpBasePort + index : 0;
    const logFile = join(dataDir, "node.log");
    const log = createWriteStream(logFile, { flags: "a" });
    const logListeners = new Set<(entry: Record<string, unknown>) => void>();
    const [command, ...prefix] = init.nodeCommand;
    const child = spawn(
      command,
      [
        ...prefix,
        "--contract",
        contractFile,
        "--agent",
        agentFile,
        "--data-dir",
        dataDir,
        "--listen",
        `/ip4/127.0.0.1/tcp/${port}`,
        "--http",
        String(httpPort),
        "--http-host",
        "127.0.0.1",
        ...(bootstrap.length > 0 ? ["--bootstrap", ...bootstrap] : []),
      ],
      {
        stdio: ["ignore", "pipe", "pipe"],
        env: {
          ...process.env,
          WALRAS_LOG_LEVEL: index === 0 ? "debug" : (init.logLevel ?? "info"),
          WALRAS_LOG_PRETTY: "0",
        },
      },
    );
    child.stderr?.pipe(log);
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on("line", (line) => {
      if (logListeners.size === 0 || !line.startsWith("{")) return;
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      for (const l of logListeners) l(entry);
    });
    let multiaddr: string | undefined;
    let httpUrl: string | undefined;
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new DevnetStartError(
              `${label}: no addresses within ${init.startTimeoutMs ?? 30_000} ms${tail(logFile)}`,
            ),
          ),
        init.startTimeoutMs ?? 30_000,
      );
      const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
      lines.on("line", (line) => {
        const a = parseAnnouncement(line);
        if (a?.kind === "listening") multiaddr = withPeerId(a.addrs[0] as string, peerId);
        if (a?.kind === "http") httpUrl = a.url;
        if (multiaddr && httpUrl) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(
          new DevnetStartError(
            `${label}: node exited (${signal ?? `code ${code}`}) while starting${tail(logFile)}`,
          ),
        );
      });
      child.once("error", (err) => {
        clearTimeout(timer);
        reject(new DevnetStartError(`${label}: cannot start ${command}: ${err.message}`));
      });
    });
    const onLog = (listener: (entry: Record<string, unknown>) => void) => {
      logListeners.add(listener);
      return () => logListeners.delete(listener);
    };
    const pending = { label, peerId, profile, dataDir, logFile, process: child, onLog };
    try {
      await ready;
    } catch (err) {
      child.kill("SIGKILL");
      throw err;
    }
    const node: DevnetNode = { ...pending, multiaddr: multiaddr as string, httpUrl: httpUrl as string };
    child.once("exit", (code, signal) => {
      if (!stopping && !stopped.has(child)) reportExit({ node, code, signal });
    });
    return node;
  };

  const stopAll = async (graceMs: number): Promise<void> => {
    stopping = true;
    await Promise.all(nodes.map((n) => terminate(n.process, graceMs)));
  };

  const addNode = async (agent: ScenarioAgent): Promise<DevnetNode> => {
    if (nodes.some((n) => n.label === agent.id)) throw new DevnetStartError(`${agent.id}: already running`);
    const node = await launch(agent, bootstrapFor(nodes));
    nodes.push(node);
    return node;
  };

  const stopNode = async (label: string, graceMs = 10_000): Promise<void> => {
    const i = nodes.findIndex((n) => n.label === label);
    const node = nodes[i];
    if (!node) throw new RangeError(`no running node ${label}`);
    stopped.add(node.process);
    nodes.splice(i, 1);
    await terminate(node.process, graceMs);
  };

  try {
    const [founder, ...others] = init.scenario.agents;
    if (!founder) throw new DevnetStartError("the scenario has no agents");
    nodes.push(await launch(founder, []));
    // In waves: each start costs a second or two of CPU (module load, key, libp2p), and forty
    // started at once on two cores missed their 30 s start deadline.
    for (let i = 0; i < others.length; i += STARTS_AT_ONCE) {
      const bootstrap = bootstrapFor(nodes);
      const wave = await Promise.allSettled(
        others.slice(i, i + STARTS_AT_ONCE).map((agent) => launch(agent, bootstrap)),
      );
      for (const r of wave) if (r.status === "fulfilled") nodes.push(r.value);
      const failed = wave.find((r) => r.status === "rejected");
      if (failed) throw failed.reason;
    }
  } catch (err) {
    await stopAll(2_000);
    if (ownsRoot) rmSync(root, { recursive: true, force: true });
    throw err;
  }

  return {
    root,
    contract,
    contractFile,
    nodes,
    bootstrap: nodes[0]?.multiaddr as string,
    unexpectedExit,
    addNode,
    stopNode,
    stop: async ({ graceMs = 10_000, keepFiles = false } = {}) => {
      await stopAll(graceMs);
      if (ownsRoot && !keepFiles) rmSync(root, { recursive: true, force: true });
    },
  };
}

/** SIGTERM (the node leaves gracefully), then SIGKILL if it still runs after `graceMs`. */
function terminate(p: ChildProcess, graceMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) return resolve();
    const timer = setTimeout(() => p.kill("SIGKILL"), graceMs);
    p.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    p.kill("SIGTERM");
  });
}

/** The last lines of a node's log, to say why it failed. */
function tail(file: string, lines = 5): string {
  try {
    const text = readFileSync(file, "utf8").trimEnd();
    if (!text) return "";
    return `; last log lines (${file}):\n${text.split("\n").slice(-lines).join("\n")}`;
  } catch {
    return "";
  }
}

/**
 * The first node still running and the two started last: every node bootstrapping from the
 * founder alone made it the one peer all forty had to complete a Noise handshake with first, and
 * on two cores it failed most of them (docs/scaling.md §5).
 */
function bootstrapFor(nodes: readonly { readonly multiaddr: string }[]): string[] {
  const [first, ...rest] = nodes;
  return first ? [...new Set([first.multiaddr, ...rest.slice(-2).map((n) => n.multiaddr)])] : [];
}
