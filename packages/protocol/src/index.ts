export * from "./agent.ts";
export * from "./canonical-json.ts";
export * from "./contract.ts";
export * from "./demand.ts";
export * from "./hash.ts";
export * from "./ids.ts";
export * from "./parse.ts";
export * from "./scenario.ts";
