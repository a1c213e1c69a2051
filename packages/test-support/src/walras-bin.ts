import { fileURLToPath } from "node:url";

/** The real `walras` executable of the workspace, run with the test's own Node as a user would. */
export const WALRAS_BIN = fileURLToPath(import.meta.resolve("@walras/cli/bin/walras"));
