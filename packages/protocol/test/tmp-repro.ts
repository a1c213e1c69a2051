import fc from "fast-check";
import { simulatedMarkets } from "./fuzz-properties.ts";

const r = await fc.check(simulatedMarkets(), {
  examples: [[{ seed: 1738008315, loss: 0.2800317015498877, maxDelay: 195, fault: "none", faultAt: 1990 }]],
  numRuns: 1,
  seed: 1,
});
console.log(r.failed, r.errorInstance);
