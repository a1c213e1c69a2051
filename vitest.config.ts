import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts", "test/**/*.test.ts", "bench/**/*.test.ts"],
    // Multi-node tests start real libp2p hosts; a 2-core CI machine needs room.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    fileParallelism: true,
    maxWorkers: 2,
    // fast-check runs from a fixed seed unless FC_SEED says otherwise (test/fast-check-seed.ts).
    setupFiles: ["./test/fast-check-seed.ts"],
    reporters: ["default", "./packages/test-support/src/summary-reporter.ts"],
  },
});
