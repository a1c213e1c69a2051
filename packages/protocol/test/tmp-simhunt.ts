import fc from "fast-check";
import { simulatedMarkets } from "/work/main/packages/protocol/test/fuzz-properties.ts";
const r = await fc.check(simulatedMarkets(), { numRuns: 1500, seed: 12345 });
console.log(r.failed, r.numRuns, String(r.errorInstance).slice(0, 300), JSON.stringify(r.counterexample));
