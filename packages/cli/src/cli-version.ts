import { readFileSync } from "node:fs";

/**
 * The version `walras --version` prints: this package's own, read from its package.json so that a
 * release bump cannot leave it behind. src/ (the repository) and lib/ (the published package) both
 * sit next to package.json.
 */
export const CLI_VERSION: string = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;
