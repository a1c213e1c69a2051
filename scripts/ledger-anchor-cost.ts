/**
 * What `LedgerBook.anchor()` costs a call on a long chain (ledger catch-up asks for it three
 * times a page). Certificates are made up (a chain of commits, no signatures): the book neither
 * verifies nor signs what it is handed, and the cost is in walking them.
 *
 *   node scripts/ledger-anchor-cost.ts [certificates=50000] [book module]
 */
import { resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { type Certificate, certificateDigest } from "@walras/protocol";
import { periodicMarket } from "@walras/test-support";
import type { LedgerBook } from "../packages/node/src/ledger/ledger-book.ts";
import type { Store } from "../packages/node/src/store/store.ts";

const count = Number(process.argv[2] ?? 50_000);
const module = process.argv[3] ? resolve(process.argv[3]) : "../packages/node/src/ledger/ledger-book.ts";
const { LedgerBook: Book } = (await import(module)) as { LedgerBook: typeof LedgerBook };

const contract = periodicMarket("anchor-cost", 3);

// A store that keeps nothing: the cost measured is the book's, not the disk's.
const store = {
  path: ":memory:",
  certificates: () => [],
  loadState: () => undefined,
  saveState: () => {},
  putCertificate: () => {},
} as unknown as Store;

const book = new Book(store, contract);
let previous: string | null = null;
for (let epoch = 0; epoch < count; epoch++) {
  const cert = {
    commit: {
      v: 2,
      kind: "commit",
      contract: "0".repeat(64),
      epoch,
      round: 3,
      prices: [1.25],
      allocations: [[1], [2], [3]],
      members: ["a", "b", "c"],
      previous,
    },
    signatures: [],
  } as unknown as Certificate;
  previous = book.addCertificate(cert);
}

const time = (calls: number) => {
  const start = performance.now();
  let end: Certificate | null = null;
  for (let i = 0; i < calls; i++) end = book.anchor();
  const ms = (performance.now() - start) / calls;
  if (!end || certificateDigest(end) !== previous) throw new Error("the anchor is not the chain's end");
  return ms;
};
const first = time(1);
const calls = 20;
console.log(
  `${count} certificates: anchor() first call ${first.toFixed(2)} ms, then ${time(calls).toFixed(4)} ms a call (mean of ${calls})`,
);
