import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { npmInstall } from "./npm-install.ts";

/** Where the npm package node@20 is installed when the machine has no old Node of its own. */
const CACHE = join(tmpdir(), "walras-test-node20");

function majorVersion(node: string): number | null {
  try {
    return Number(execFileSync(node, ["-p", "process.versions.node"], { encoding: "utf8" }).split(".")[0]);
  } catch {
    return null;
  }
}

/**
 * A Node.js older than 22, the kind walras must turn away with one clear line: the machine's own
 * when it has one (Debian's Node 20, say), otherwise the npm package `node@20`, installed once
 * into the temp directory and reused.
 */
export async function oldNode(): Promise<string> {
  const onPath = (process.env.PATH ?? "").split(delimiter).map((dir) => join(dir, "node"));
  for (const node of [...onPath, "/usr/bin/node", "/usr/local/bin/node"]) {
    const major = existsSync(node) ? majorVersion(node) : null;
    if (major !== null && major < 22) return node;
  }
  const cached = join(CACHE, "node_modules", "node", "bin", "node");
  if (!existsSync(cached)) {
    // Installed aside and renamed into place: test files running at once do not see half of it.
    const staging = mkdtempSync(`${CACHE}-`);
    await npmInstall(staging, ["node@20"]);
    try {
      renameSync(staging, CACHE);
    } catch {
      rmSync(staging, { recursive: true, force: true });
    }
  }
  const major = majorVersion(cached);
  if (major === null || major >= 22) throw new Error(`${cached} is not a Node.js older than 22`);
  return cached;
}
