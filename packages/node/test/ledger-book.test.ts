import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Certificate,
  certificateDigest,
  contractSchema,
  paperProfiles,
  SimulatedNetwork,
} from "@walras/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { LedgerBook } from "../src/ledger/ledger-book.ts";
import { createLedgerSync, ledgerPage } from "../src/ledger/ledger-sync.ts";
import { openStore, type Store } from "../src/store/store.ts";

// A periodic market re-clears on schedule: a chain of certificates, each naming the one before.
const contract = contractSchema.parse({
  name: "ledger-gap",
  resources: [{ id: "cpu", capacity: 6 }],
  fees: { perUnit: 0.5, fixed: 0 },
  minMembers: 3,
  period: { ms: 3000 },
  timeouts: { roundMs: 2000, announceMs: 200 },
});

function chainOf(length: number): Certificate[] {
  const net = new SimulatedNetwork({ contract, seed: 5 });
  const nodes = paperProfiles(3, 9).map((p, i) => net.addAgent(`n${i}`, p));
  const held = () => nodes[0]?.machine.certificates() ?? [];
  expect(net.runUntil(() => held().length >= length, 120_000)).toBe(true);
  return [...held()].sort((a, b) => a.commit.epoch - b.commit.epoch).slice(0, length);
}

const dirs: string[] = [];
const stores: Store[] = [];
function book(certificates: readonly Certificate[]): LedgerBook {
  const dir = mkdtempSync(join(tmpdir(), "walras-ledger-book-"));
  dirs.push(dir);
  const store = openStore(dir);
  stores.push(store);
  const b = new LedgerBook(store, contract);
  for (const c of certificates) b.addCertificate(c);
  return b;
}

afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("a node's ledger with a slot missing in the middle", () => {
  it("catch-up continues from the end of the unbroken chain, not the tip, and fills the gap", async () => {
    const chain = chainOf(4);
    for (let i = 1; i < chain.length; i++)
      expect(chain[i]?.commit.previous).toBe(certificateDigest(chain[i - 1] as Certificate));
    const [c0, c1, c2, c3] = chain as [Certificate, Certificate, Certificate, Certificate];

    // Back from a restart: it held c0 and c1, slept through c2, and assembled c3 from gossip.
    const mine = book([c0, c1, c3]);
    expect(mine.tip()).toBe(c3);
    expect(mine.anchor()).toBe(c1);
    expect(mine.holdsChainTo(certificateDigest(c1))).toBe(true);
    expect(mine.holdsChainTo(certificateDigest(c3))).toBe(false);
    expect(mine.ledger().entries).toHaveLength(1); // only c3: its predecessor is missing

    const peer = book(chain);
    const asked: (string | undefined)[] = [];
    const sync = createLedgerSync(mine, async (after) => {
      asked.push(after);
      return ledgerPage(peer, after);
    });
    expect(await sync.sync()).toEqual({ added: 1 });
    expect(asked[0]).toBe(certificateDigest(c1));
    expect(mine.anchor()).toBe(c3);
    expect(mine.holdsChainTo(certificateDigest(c3))).toBe(true);
    expect(mine.holdsChainTo(certificateDigest(c2))).toBe(true);
    expect(mine.ledger()).toEqual(peer.ledger());
  });

  it("a node holding no first certificate fetches the whole ledger", async () => {
    const chain = chainOf(3);
    const late = book(chain.slice(2));
    expect(late.anchor()).toBeNull();
    const peer = book(chain);
    const sync = createLedgerSync(late, async (after) => ledgerPage(peer, after));
    expect(await sync.sync()).toEqual({ added: 2 });
    expect(late.ledger()).toEqual(peer.ledger());
  });
});
