export * from "./cluster.ts";
export * from "./hostile-peer.ts";
export * from "./node-process.ts";
export * from "./process-cpu.ts";
export * from "./run-cli.ts";
export * from "./sync-flood.ts";
export * from "./wait-for.ts";
export * from "./walras-process.ts";
