import { readFileSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { oldNode, runCommand, WALRAS_BIN } from "@walras/test-support";
import { beforeAll, describe, expect, it } from "vitest";

/**
 * On a Node older than walras needs, every way in (the `walras` bin, `pnpm install`, `pnpm start`,
 * `pnpm test`, ...) ends with one line that says which Node is needed and how to get it, not with
 * a stack trace from the first thing the old Node cannot load.
 */

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const CHECK = "node packages/cli/bin/check-node.js";
const ONE_LINE =
  /^walras needs Node\.js >= 22\.18, but this is Node\.js v(\d+)\.\d+\.\d+ \(.+\): install Node 24 with `nvm install 24`, or `npm install -g node@24`, or from https:\/\/nodejs\.org\n$/;
const scripts = (
  JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }
).scripts;

let node: string;
beforeAll(async () => {
  node = await oldNode();
}, 180_000);

function expectTurnedAway(run: { code: number; stdout: string; stderr: string }) {
  expect(run.code, run.stderr).toBe(1);
  expect(run.stdout).toBe("");
  expect(run.stderr).toMatch(ONE_LINE);
  expect(Number(run.stderr.match(ONE_LINE)?.[1])).toBeLessThan(22);
}

describe("an old Node gets one line naming the Node walras needs and how to install it", () => {
  it("`walras` (the bin, as the published package runs it too)", async () => {
    expectTurnedAway(await runCommand(node, [WALRAS_BIN, "--version"]));
    expectTurnedAway(await runCommand(node, [WALRAS_BIN, "devnet", "--nodes", "3"]));
  });

  it.each(["preinstall", "start", "walras"])("the repository's `pnpm %s`", async (name) => {
    const script = scripts[name] as string;
    // pnpm runs a script with `sh -c` and the `node` first on PATH.
    const env = { PATH: `${dirname(node)}${delimiter}${process.env.PATH}` };
    expectTurnedAway(await runCommand("sh", ["-c", script], { cwd: ROOT, env }));
  });

  it("every other script that needs Node >= 22.18 checks first (pnpm test, pack, bench, ...)", () => {
    // Not run here: `pnpm test` would start vitest inside vitest if the check let it through.
    for (const name of ["test", "test:unit", "pack", "bench", "fuzz"])
      expect(scripts[name], name).toMatch(new RegExp(`^${CHECK} && `));
  });

  it("the Node that runs these tests passes the check without a word", async () => {
    const run = await runCommand(process.execPath, [join(ROOT, "packages/cli/bin/check-node.js")]);
    expect(run).toEqual({ code: 0, stdout: "", stderr: "" });
  });
});
