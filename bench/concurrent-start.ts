import { startConcurrently } from "@walras/test-support";
import type { BenchOptions, BenchSection } from "./main.ts";

/**
 * Issue 9's trial as a benchmark: `--trials` times (default 5), eight `walras node start`
 * processes started together on a default contract (minMembers 1), the first founding and the
 * others bootstrapping through it. Reports each trial's time from the last spawn to one
 * certificate on every node, and whether it is the reference equilibrium; then the distribution.
 * test/concurrent-start.test.ts checks one trial's outcome; times are only measured here.
 */
export const concurrentStartBench: BenchSection = {
  name: "concurrent-start",
  description: "8 `walras node start` at once on a default contract, repeated (--trials N, default 5)",
  async run(options: BenchOptions) {
    const trials = options.trials ?? 5;
    const agents = 8;
    const times: number[] = [];
    let failed = 0;
    console.log("| trial | seed | certified after | price gap | allocation gap |");
    console.log("|---|---|---|---|---|");
    for (let t = 0; t < trials; t++) {
      const seed = 100 + t;
      const network = await startConcurrently({ agents, capacity: 1.5 * agents, seed });
      try {
        await network.commonCertificate(180_000);
        const ms = Date.now() - network.startedAt;
        const gap = await network.referenceGap();
        const exact = gap.price < 1e-6 && gap.allocation < 1e-6;
        if (exact) times.push(ms);
        else failed += 1;
        console.log(
          `| ${t + 1} | ${seed} | ${(ms / 1000).toFixed(1)} s | ${gap.price.toExponential(1)} | ${gap.allocation.toExponential(1)}${exact ? "" : " (not the reference)"} |`,
        );
      } catch (e) {
        failed += 1;
        console.log(`| ${t + 1} | ${seed} | none within 180 s: ${e instanceof Error ? e.message : e} | | |`);
      } finally {
        await network.stop();
      }
    }
    times.sort((a, b) => a - b);
    const at = (q: number) =>
      ((times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0) / 1000).toFixed(1);
    console.log(
      `\n${times.length}/${trials} trials certified the reference equilibrium (${failed} did not); ` +
        (times.length > 0
          ? `time to certificate: min ${at(0)} s, median ${at(0.5)} s, max ${at(1)} s`
          : "no times"),
    );
  },
};
