import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { NODE_HEAP_FLAGS } from "../src/node-heap-flags.ts";

const DOCKERFILE = new URL("../../../docker/Dockerfile", import.meta.url);

describe("the node processes' V8 flags", () => {
  // A Dockerfile cannot import them, so the image's entrypoint writes them out again.
  it("are the ones the Docker image's entrypoint passes to node", () => {
    const line = readFileSync(DOCKERFILE, "utf8")
      .split("\n")
      .find((l) => l.startsWith("ENTRYPOINT "));
    expect(line).toBeDefined();
    const argv = JSON.parse((line as string).slice("ENTRYPOINT ".length)) as string[];
    expect(argv[0]).toBe("node");
    expect(argv.slice(1, 1 + NODE_HEAP_FLAGS.length)).toEqual([...NODE_HEAP_FLAGS]);
    expect(argv[1 + NODE_HEAP_FLAGS.length]).toBe("/app/packages/cli/bin/walras");
  });
});
