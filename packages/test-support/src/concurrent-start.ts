import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadOrCreateKey } from "@walras/node";
import { type Contract, contractSchema, type Scenario, scenarioSchema } from "@walras/protocol";
import { fetchStatus } from "./cli-node.ts";
import { referenceGap } from "./reference-gap.ts";
import { runCli } from "./run-cli.ts";
import { waitFor } from "./wait-for.ts";
import { startWalras, type WalrasProcess } from "./walras-process.ts";

/**
 * What a new user does with the README's "Run your own nodes": a default contract (`contract
 * create --from` a scenario, no --min-members), one `walras node start` per agent, all started at
 * once, the first with no --bootstrap (it founds the market), the others bootstrapping through it.
 * Shared by the multi-node test and the concurrent-start benchmark.
 */
export interface ConcurrentNetwork {
  readonly dir: string;
  readonly contract: Contract;
  readonly scenario: Scenario;
  readonly nodes: readonly {
    readonly peerId: string;
    readonly process: WalrasProcess;
    readonly httpUrl: Promise<string>;
  }[];
  /** When the last process was spawned. */
  readonly startedAt: number;
  /** Waits for one certificate on every node naming every agent; resolves with its digest. */
  commonCertificate(timeoutMs: number): Promise<string>;
  /** The first node's certificate prices and allocations against the reference solver. */
  referenceGap(): Promise<{ price: number; allocation: number }>;
  stop(): Promise<void>;
}

export async function startConcurrently(options: {
  readonly agents: number;
  readonly capacity: number;
  readonly seed: number;
  /** A fresh temp dir by default (removed on stop). */
  readonly dir?: string;
  readonly logLevel?: string;
}): Promise<ConcurrentNetwork> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "walras-concurrent-"));
  const cli = async (args: string[]) => {
    const r = await runCli(args, { cwd: dir });
    if (r.code !== 0) throw new Error(`walras ${args.join(" ")}: ${r.stderr}`);
  };
  await cli([
    "scenario",
    "paper",
    "--agents",
    String(options.agents),
    "--capacity",
    String(options.capacity),
    "--seed",
    String(options.seed),
    "--out",
    join(dir, "scenario.json"),
  ]);
  await cli([
    "contract",
    "create",
    "--from",
    join(dir, "scenario.json"),
    "--out",
    join(dir, "contract.json"),
  ]);
  const scenario = scenarioSchema.parse(JSON.parse(readFileSync(join(dir, "scenario.json"), "utf8")));
  const contract = contractSchema.parse(JSON.parse(readFileSync(join(dir, "contract.json"), "utf8")));
  const agents = await Promise.all(
    scenario.agents.map(async ({ id: _id, ...profile }, i) => {
      writeFileSync(join(dir, `a${i}.json`), JSON.stringify(profile));
      const key = await loadOrCreateKey(join(dir, `a${i}.key`));
      return { peerId: key.peerId.toString(), profile };
    }),
  );
  const port = await freePort();
  const founder = `/ip4/127.0.0.1/tcp/${port}/p2p/${agents[0]?.peerId}`;
  const nodes = agents.map((a, i) => {
    const process = startWalras([
      "node",
      "start",
      "--contract",
      join(dir, "contract.json"),
      "--agent",
      join(dir, `a${i}.json`),
      "--key",
      join(dir, `a${i}.key`),
      "--data-dir",
      join(dir, `d${i}`),
      "--listen",
      `/ip4/127.0.0.1/tcp/${i === 0 ? port : 0}`,
      "--http",
      "0",
      "--log-level",
      options.logLevel ?? "warn",
      ...(i === 0 ? [] : ["--bootstrap", founder]),
    ]);
    const httpUrl = process.waitForLine(/^walras node \S+ http (\S+)$/m, 120_000).then((m) => m[1] as string);
    return { peerId: a.peerId, process, httpUrl };
  });
  const startedAt = Date.now();
  const urls = () => Promise.all(nodes.map((n) => n.httpUrl));
  const want = agents.map((a) => a.peerId).sort();
  return {
    dir,
    contract,
    scenario,
    nodes,
    startedAt,
    commonCertificate: async (timeoutMs) => {
      let digest = "";
      const all = await urls();
      await waitFor(
        async () => {
          const certs = (await Promise.all(all.map(fetchStatus))).map((s) => s?.certificate ?? null);
          const first = certs[0];
          if (!first || JSON.stringify([...first.members].sort()) !== JSON.stringify(want)) return false;
          digest = first.digest;
          return certs.every((c) => c?.digest === first.digest);
        },
        { timeoutMs, intervalMs: 100, what: `one certificate for all ${agents.length} agents on every node` },
      );
      return digest;
    },
    referenceGap: async () => {
      const [url] = await urls();
      const cert = (await (await fetch(`${url}/certificate`)).json()) as {
        commit: { prices: number[]; allocations: { agent: string; x: number }[] };
      };
      const { price, allocation } = referenceGap(
        contract,
        agents.map((a) => ({ id: a.peerId, profile: a.profile })),
        cert.commit,
      );
      return { price, allocation };
    },
    stop: async () => {
      await Promise.all(nodes.map((n) => n.process.stop(5_000)));
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A TCP port free right now on loopback (the founder must listen on a port the others know). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}
