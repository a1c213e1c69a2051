import { type ChildProcess, fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { processCpuTimes } from "@walras/test-support";
import { spawnAll } from "../network/process-cluster.ts";
import type { FloorHosts } from "./floor-hosts.ts";
import type { FromHost, HostProcessConfig, ToHost } from "./host-process.ts";

/** Generous, as for the network bench's node processes: startup is not what is measured. */
const START_TIMEOUT_MS = 120_000;
const HOST_SCRIPT = join(import.meta.dirname, "host-process.ts");

interface HostChild {
  readonly child: ChildProcess;
  readonly multiaddr: string;
  readonly dlo: number;
  mesh: number;
  readonly delivered: Set<number>;
  report?: (receptions: number) => void;
}

/**
 * n bare hosts, one OS process each (`host-process.ts`), bootstrapped as the network bench's node
 * processes are: from the first and two others already up.
 */
export async function startProcessHosts(n: number): Promise<FloorHosts> {
  const keys = mkdtempSync(join(tmpdir(), "walras-floor-"));
  const children: ChildProcess[] = [];
  const hosts: HostChild[] = [];
  let wake = () => {};
  /** The first host that died: the run is over, and the rounds say so instead of timing out. */
  let exited: string | undefined;
  const alive = () => {
    if (exited !== undefined) throw new Error(exited);
  };
  const stop = async () => {
    await Promise.allSettled(
      children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGKILL");
        await exited;
      }),
    );
    rmSync(keys, { recursive: true, force: true });
  };
  const spawnHost = (i: number, bootstrap: readonly string[]) =>
    new Promise<HostChild>((resolve, reject) => {
      const config: HostProcessConfig = { hosts: n, keyFile: join(keys, `key${i}`), bootstrap };
      const child = fork(HOST_SCRIPT, [JSON.stringify(config)], {
        stdio: ["ignore", "inherit", "inherit", "ipc"],
        env: { NODE_COMPILE_CACHE: join(tmpdir(), "node-compile-cache"), ...process.env },
      });
      children.push(child);
      const timer = setTimeout(
        () => reject(new Error(`host ${i} did not start within ${START_TIMEOUT_MS / 1000} s`)),
        START_TIMEOUT_MS,
      );
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        exited ??= `host ${i} exited (${code ?? signal})`;
        reject(new Error(exited));
        wake();
      });
      let host: HostChild | undefined;
      child.on("message", (message: FromHost) => {
        if (message.type === "up") {
          clearTimeout(timer);
          host = { child, multiaddr: message.multiaddr, dlo: message.dlo, mesh: 0, delivered: new Set() };
          resolve(host);
        } else if (!host) return;
        else if (message.type === "mesh") host.mesh = message.size;
        else if (message.type === "delivered") host.delivered.add(message.round);
        else host.report?.(message.receptions);
        wake();
      });
    });
  try {
    await spawnAll(n, spawnHost, hosts);
  } catch (err) {
    await stop();
    throw err;
  }
  const tell = (host: HostChild, message: ToHost) => host.child.send(message);
  return {
    size: n,
    dlo: hosts[0]?.dlo ?? 1,
    meshes: () => {
      alive();
      return hosts.map((h) => h.mesh);
    },
    delivered: (round) => {
      alive();
      return hosts.every((h) => h.delivered.has(round));
    },
    publish: async (round, bytes) => {
      for (const host of hosts) tell(host, { type: "publish", round, bytes });
    },
    receptions: async () => {
      const counts = await Promise.all(
        hosts.map(
          (host) =>
            new Promise<number>((resolve) => {
              host.report = resolve;
              tell(host, { type: "report" });
            }),
        ),
      );
      return counts.reduce((a, b) => a + b, 0);
    },
    cpu: () =>
      hosts.reduce(
        (sum, h) => {
          const t = processCpuTimes(h.child.pid as number);
          return { userMs: sum.userMs + t.userMs, systemMs: sum.systemMs + t.systemMs };
        },
        { userMs: 0, systemMs: 0 },
      ),
    onChange: (w) => {
      wake = w;
    },
    stop,
  };
}
