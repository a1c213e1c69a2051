import { execFile } from "node:child_process";
import { promisify } from "node:util";

/**
 * `npm install` into `prefix`, as someone without pnpm or this repository would run it (npm's own
 * settings and registry). Run under `pnpm test`, the environment carries pnpm's npm_config_*
 * settings; they are left out so that npm behaves as it does in a plain shell.
 */
export async function npmInstall(
  prefix: string,
  specs: readonly string[],
  options: { global?: boolean } = {},
): Promise<void> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_config_/i.test(k)));
  await promisify(execFile)(
    "npm",
    [
      "install",
      ...(options.global ? ["--global"] : ["--no-save"]),
      "--prefix",
      prefix,
      "--no-audit",
      "--no-fund",
      "--no-update-notifier",
      // Metadata npm has cached is good enough for a test, and spares the registry round trips.
      "--prefer-offline",
      ...specs,
    ],
    { env, maxBuffer: 16 * 1024 * 1024 },
  );
}
