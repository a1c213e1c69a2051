import { fileURLToPath } from "node:url";
import { NODE_HEAP_FLAGS } from "@walras/node";

const WALRAS_BIN = fileURLToPath(new URL("../../../bin/walras", import.meta.url));

/** How a local network starts each of its nodes: this walras, as `walras node start`, in its own process. */
export const NODE_COMMAND: readonly [string, ...string[]] = [
  process.execPath,
  ...NODE_HEAP_FLAGS,
  WALRAS_BIN,
  "node",
  "start",
];
