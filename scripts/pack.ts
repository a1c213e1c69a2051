/**
 * `pnpm run pack [--out DIR]`: one installable npm tarball per published package (@walras/protocol,
 * @walras/node, @walras/cli) in dist/, so that `npm install -g dist/*.tgz` gives a working `walras`
 * with neither the repository nor pnpm.
 *
 * Node strips TypeScript types only outside node_modules, so a published package must be compiled:
 * `tsc -b` emits JavaScript and .d.ts into each package's lib/ (tsconfig.build.json; project
 * references build the packages in dependency order, and `rewriteRelativeImportExtensions` turns
 * the sources' `./x.ts` imports into `./x.js`). `pnpm pack` then swaps in each package's
 * `publishConfig.exports` (lib/ instead of src/) and replaces `workspace:*` with real versions.
 * lib/ and the LICENSE copies are removed again afterwards: the repository runs from src/.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
/** In dependency order; each has a tsconfig.build.json and a publishConfig. */
const PUBLISHED = ["protocol", "node", "cli"] as const;
const TSC = createRequire(import.meta.url).resolve("typescript/bin/tsc");

function outDirFrom(argv: readonly string[]): string {
  const i = argv.indexOf("--out");
  if (i < 0) return join(ROOT, "dist");
  const dir = argv[i + 1];
  if (dir === undefined) throw new Error("--out needs a directory");
  return resolve(dir);
}

/** Files under src/ that tsc does not emit (assets a module reads at run time) go to lib/ as well. */
function copyAssets(src: string, lib: string): void {
  for (const entry of readdirSync(src, { recursive: true, encoding: "utf8" })) {
    const from = join(src, entry);
    if (entry.endsWith(".ts") || statSync(from).isDirectory()) continue;
    mkdirSync(dirname(join(lib, entry)), { recursive: true });
    copyFileSync(from, join(lib, entry));
  }
}

function removeBuildOutputs(): void {
  for (const pkg of PUBLISHED) {
    rmSync(join(ROOT, "packages", pkg, "lib"), { recursive: true, force: true });
    rmSync(join(ROOT, "packages", pkg, "LICENSE"), { force: true });
  }
}

function pack(outDir: string): string[] {
  mkdirSync(outDir, { recursive: true });
  // Tarballs of an older version would otherwise be installed beside the new ones by `dist/*.tgz`.
  for (const old of readdirSync(outDir)) if (/^walras-.*\.tgz$/.test(old)) rmSync(join(outDir, old));
  removeBuildOutputs();
  try {
    execFileSync(process.execPath, [TSC, "-b", join(ROOT, "packages/cli/tsconfig.build.json")], {
      stdio: "inherit",
    });
    for (const pkg of PUBLISHED) {
      const dir = join(ROOT, "packages", pkg);
      copyAssets(join(dir, "src"), join(dir, "lib"));
      copyFileSync(join(ROOT, "LICENSE"), join(dir, "LICENSE"));
      execFileSync("pnpm", ["pack", "--pack-destination", outDir], {
        cwd: dir,
        stdio: ["ignore", "ignore", "inherit"],
      });
    }
  } finally {
    removeBuildOutputs();
  }
  return readdirSync(outDir)
    .filter((f) => /^walras-.*\.tgz$/.test(f))
    .map((f) => join(outDir, f));
}

/** As typed in a shell; `./` kept, or npm would read `dist/x.tgz` as a GitHub repository. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  if (rel.startsWith("..") || isAbsolute(rel)) return path;
  return `./${rel}`;
}

const tarballs = pack(outDirFrom(process.argv.slice(2)));
for (const t of tarballs) console.log(`${shown(t)}  ${(statSync(t).size / 1024).toFixed(0)} kB`);
console.log(`install: npm install -g ${tarballs.map(shown).join(" ")}`);
