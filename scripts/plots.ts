/**
 * `pnpm plots`: redraws the figures of docs/economics.md §Dynamics (docs/dynamics-*.svg) with
 * `walras experiment dynamics --svg`, and prints each run's table, from which the page's tables
 * are taken. The runs are deterministic: the same code draws the same files.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const WALRAS = fileURLToPath(new URL("../packages/cli/bin/walras", import.meta.url));

/** The paper's distributions and fees (n = 50 so that capacity binds), 40 slots, seed 1. */
const FIGURES: readonly { readonly file: string; readonly args: readonly string[] }[] = [
  { file: "docs/dynamics-fee-shock.svg", args: ["--shock", "fee", "--at", "10", "--until", "30"] },
  { file: "docs/dynamics-capacity-shock.svg", args: ["--shock", "capacity", "--at", "10", "--until", "30"] },
  { file: "docs/dynamics-churn.svg", args: ["--shock", "churn"] },
];

for (const { file, args } of FIGURES) {
  process.stdout.write(`\n$ walras experiment dynamics ${args.join(" ")} --svg ${file}\n`);
  execFileSync(process.execPath, [WALRAS, "experiment", "dynamics", ...args, "--svg", file], {
    cwd: ROOT,
    stdio: ["ignore", "inherit", "inherit"],
  });
}
