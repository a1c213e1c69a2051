import { type ConcurrentNetwork, startConcurrently } from "@walras/test-support";
import { afterEach, describe, expect, it } from "vitest";

/**
 * Issue 9's trial, as a user runs it: eight `walras node start` processes started together on a
 * default contract (minMembers left at 1), bootstrapping through the first. Every node must end on
 * one certificate for all eight, equal to the reference equilibrium. (`pnpm bench --concurrent`
 * repeats it and reports the distribution of times; no time is asserted here.)
 */
let network: ConcurrentNetwork | null = null;
afterEach(async () => {
  await network?.stop();
  network = null;
});

describe("eight nodes started at once on a default contract", () => {
  it("all certify the reference equilibrium, whatever order they come up in", async () => {
    network = await startConcurrently({ agents: 8, capacity: 12, seed: 9 });
    expect(network.contract.minMembers).toBe(1);
    await network.commonCertificate(150_000);
    const gap = await network.referenceGap();
    expect(gap.price).toBeLessThan(1e-6);
    expect(gap.allocation).toBeLessThan(1e-6);
    console.info(`8 concurrent starts: one certificate for all after ${Date.now() - network.startedAt} ms`);
  }, 240_000);
});
