import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { devnetScenario } from "@walras/cli/devnet-scenario";
import type { NodeStatus } from "@walras/node";
import { solveReference } from "@walras/protocol";
import {
  npmInstall,
  oldNode,
  runCommand,
  startCommand,
  type WalrasProcess,
  waitFor,
} from "@walras/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * walras as someone without the repository or pnpm gets it: the tarballs of `pnpm run pack`
 * installed with npm into a fresh global prefix (third-party packages from the npm registry), then
 * run from there with a PATH that holds only Node, the installed bin and the system's tools.
 */

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const PUBLISHED = ["protocol", "node", "cli"];
const version = (pkg: string) =>
  (JSON.parse(readFileSync(join(ROOT, "packages", pkg, "package.json"), "utf8")) as { version: string })
    .version;

let dir: string;
let prefix: string;
let walras: string;
let env: NodeJS.ProcessEnv;
const running: WalrasProcess[] = [];

// Timeout: on a busy 2-core machine compiling and npm's downloads can take minutes.
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "walras-install-"));
  const pack = await runCommand(process.execPath, [
    join(ROOT, "scripts/pack.ts"),
    "--out",
    join(dir, "dist"),
  ]);
  expect(pack.code, pack.stderr).toBe(0);
  const tarballs = readdirSync(join(dir, "dist")).map((f) => join(dir, "dist", f));
  expect(tarballs.map((t) => basename(t)).sort()).toEqual(
    PUBLISHED.map((p) => `walras-${p}-${version(p)}.tgz`).sort(),
  );
  prefix = join(dir, "prefix");
  await npmInstall(prefix, tarballs, { global: true });
  walras = join(prefix, "bin", "walras");
  env = {
    PATH: [dirname(process.execPath), join(prefix, "bin"), "/usr/bin", "/bin"].join(delimiter),
    HOME: dir,
    WALRAS_LOG_PRETTY: "0",
  };
}, 480_000);

afterAll(async () => {
  await Promise.all(running.map((p) => p.stop(5_000)));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function start(args: readonly string[]): WalrasProcess {
  const p = startCommand(walras, args, env);
  running.push(p);
  return p;
}

/** The package's own files, not those of its dependencies. */
function filesOf(pkgRoot: string): string[] {
  return readdirSync(pkgRoot, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && !e.parentPath.startsWith(join(pkgRoot, "node_modules")))
    .map((e) => join(e.parentPath, e.name));
}

describe("walras installed from the packed tarballs with npm (no pnpm, no repository)", () => {
  it("is compiled JavaScript with type declarations, real dependency versions and nothing of the repository", () => {
    for (const pkg of PUBLISHED) {
      const root = join(prefix, "lib", "node_modules", "@walras", pkg);
      const manifest = readFileSync(join(root, "package.json"), "utf8");
      expect(manifest, pkg).not.toContain("workspace:");
      expect(JSON.parse(manifest).engines).toEqual({ node: ">=22.18" });
      const files = filesOf(root);
      expect(
        files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts")),
        pkg,
      ).toEqual([]);
      expect(files.filter((f) => f.endsWith(".d.ts")).length, pkg).toBeGreaterThan(0);
      expect(
        files.some((f) => f.endsWith("LICENSE")),
        pkg,
      ).toBe(true);
      // A path of the repository baked in would make it run the repository's code, not its own.
      for (const f of files) expect(readFileSync(f, "utf8").includes(ROOT), f).toBe(false);
    }
  });

  it("`walras --version` prints the package's version", async () => {
    const run = await runCommand(walras, ["--version"], { cwd: dir, replaceEnv: env });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(`${version("cli")}\n`);
  });

  it("`walras devnet --nodes 3` certifies the reference equilibrium, and `walras testnet join` joins it", {
    timeout: 240_000,
  }, async () => {
    const devnet = start([
      "devnet",
      "--nodes",
      "3",
      "--base-port",
      "0",
      "--http-base-port",
      "0",
      "--keep",
      "--json",
    ]);
    await devnet.waitForLine(/^}$/m, 120_000);
    const result = JSON.parse(devnet.stdout()) as {
      pass: boolean;
      prices: Record<string, number>;
      nodes: { multiaddr: string; httpUrl: string; label: string; x: number | null }[];
    };
    expect(result.pass, devnet.stderr()).toBe(true);
    expect(result.nodes).toHaveLength(3);
    const solution = solveReference(devnetScenario({ nodes: 3 }));
    const reference = solution.prices[0] as number;
    expect(reference).toBeGreaterThan(0);
    expect(Math.abs((result.prices.capacity as number) - reference) / reference).toBeLessThan(1e-6);
    // Each node's certified allocation is the reference's for its agent (nodes are labelled by the
    // scenario's agent ids).
    expect(result.nodes.map((n) => n.label).sort()).toEqual(
      solution.allocations.map((a) => a.agent as string).sort(),
    );
    for (const n of result.nodes) {
      const x = solution.allocations.find((a) => a.agent === n.label)?.x as number;
      expect(Math.abs((n.x ?? Number.NaN) - x) / Math.max(1, x)).toBeLessThan(1e-6);
    }

    const agent = join(dir, "me.json");
    const created = await runCommand(
      walras,
      ["agent", "create", "--valuation", "log:alpha=12", "--cost", "linear:beta=1.5", "--out", agent],
      { cwd: dir, replaceEnv: env },
    );
    expect(created.code, created.stderr).toBe(0);
    const bootstrap = result.nodes[0]?.multiaddr as string;
    const joiner = start([
      "testnet",
      "join",
      bootstrap,
      "--agent",
      agent,
      "--data-dir",
      join(dir, "me"),
      "--http",
      "0",
    ]);
    const [, peerId, httpUrl] = (await joiner.waitForLine(
      /^walras node (\S+) http (\S+)$/m,
      60_000,
    )) as unknown as [string, string, string];
    await waitFor(
      async () => {
        const res = await fetch(`${httpUrl}/status`, { signal: AbortSignal.timeout(2_000) }).catch(
          () => null,
        );
        const members = res?.ok ? ((await res.json()) as NodeStatus).certificate?.members : undefined;
        return members?.length === 4 && members.includes(peerId);
      },
      {
        timeoutMs: 60_000,
        intervalMs: 200,
        what: "a certificate naming the node that joined and the 3 devnet nodes",
      },
    );

    expect(await joiner.stop()).toBe(0);
    // The devnet stops its nodes on SIGTERM and ends well: it had passed.
    expect(await devnet.stop(30_000)).toBe(0);
    expect(devnet.stderr()).toContain("all nodes stopped");
  });

  it("on an old Node the installed `walras` says in one line which Node it needs", async () => {
    const node = await oldNode();
    const run = await runCommand(walras, ["--version"], {
      cwd: dir,
      replaceEnv: { ...env, PATH: `${dirname(node)}${delimiter}${env.PATH}` },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^walras needs Node\.js >= 22\.18, but this is Node\.js v(1\d|20|21)\.[^\n]*nvm[^\n]*\n$/,
    );
  }, 180_000);
});
