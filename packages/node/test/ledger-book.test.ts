import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type AgentMachine,
  type AmendMessage,
  type ApproveMessage,
  amendTerms,
  buildCertificate,
  buildLedger,
  type Certificate,
  type CommitMessage,
  type Contract,
  certificateDigest,
  chargesAt,
  contractId,
  contractSchema,
  type LedgerEntry,
  type NetworkEvent,
  paperProfiles,
  quorumSize,
  type Signer,
  type SimNode,
  SimulatedNetwork,
  signMessage,
  type Unsigned,
  verifyLedger,
} from "@walras/protocol";
import { periodicMarket } from "@walras/test-support";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { createMachineDriver } from "../src/driver/machine-driver.ts";
import { LedgerBook } from "../src/ledger/ledger-book.ts";
import {
  createLedgerCatchUp,
  type LedgerCatchUp,
  MAX_LEDGER_CONTINUED_RUNS,
} from "../src/ledger/ledger-catch-up.ts";
import { createLedgerSync, LEDGER_SYNC_PAGE, ledgerPage } from "../src/ledger/ledger-sync.ts";
import { openStore, type Store, StoreWriteError } from "../src/store/store.ts";
import { stubbedExecutor } from "./stubbed-executor.ts";
import { waitFor } from "./wait-for.ts";

// A periodic market re-clears on schedule: a chain of certificates, each naming the one before.
const contract = periodicMarket("ledger-gap", 3);

function chainOf(length: number): Certificate[] {
  const net = new SimulatedNetwork({ contract, seed: 5 });
  const nodes = paperProfiles(3, 9).map((p, i) => net.addAgent(`n${i}`, p));
  const held = () => nodes[0]?.machine.certificates() ?? [];
  expect(net.runUntil(() => held().length >= length, 120_000)).toBe(true);
  return [...held()].sort((a, b) => a.commit.epoch - b.commit.epoch).slice(0, length);
}

const dirs: string[] = [];
const stores: Store[] = [];
function tempStore(): Store {
  const dir = mkdtempSync(join(tmpdir(), "walras-ledger-book-"));
  dirs.push(dir);
  const store = openStore(dir);
  stores.push(store);
  return store;
}
function book(certificates: readonly Certificate[], on: Contract = contract): LedgerBook {
  const b = new LedgerBook(tempStore(), on);
  for (const c of certificates) b.addCertificate(c);
  return b;
}

/**
 * A catch-up gone on with by the node's one timer (the machine driver), for a machine with no
 * deadline of its own, as on a quiet market: only the catch-up's own schedule wakes it.
 */
function drivenCatchUp(
  sync: ReturnType<typeof createLedgerSync>,
  continueMs: { first: number; max: number },
): { catchUp: LedgerCatchUp; stop: () => void } {
  const log = pino({ level: "silent" });
  const catchUp: LedgerCatchUp = createLedgerCatchUp(sync, log, () => {}, {
    now: Date.now,
    onScheduled: () => driver.wake(),
    continueMs,
  });
  const machine = { handle: () => [], nextDeadline: () => Number.POSITIVE_INFINITY };
  const driver = createMachineDriver({
    machine: machine as unknown as AgentMachine,
    executor: stubbedExecutor({ ledgerCatchUp: catchUp, now: Date.now }),
    log,
    now: Date.now,
  });
  driver.start();
  return { catchUp, stop: () => driver.stop() };
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

  it("a page that the node's own certificate overtook on its way is asked for again, not refused", async () => {
    const [c0, c1, c2] = chainOf(3) as [Certificate, Certificate, Certificate];
    const mine = book([]);
    const peer = book([c0, c1, c2]);
    const asked: (string | undefined)[] = [];
    const sync = createLedgerSync(mine, async (after) => {
      asked.push(after);
      // The node's machine assembles epoch 0's certificate while the first page is in flight.
      if (asked.length === 1) mine.addCertificate(c0);
      return ledgerPage(peer, after);
    });
    expect(await sync.sync()).toEqual({ added: 2 });
    expect(asked).toEqual([undefined, certificateDigest(c0)]);
    expect(mine.ledger()).toEqual(peer.ledger());
  });

  it("a node holding no first certificate fetches the whole ledger", async () => {
    const chain = chainOf(3);
    const late = book(chain.slice(2));
    expect(late.anchor()).toBeNull();
    const peer = book(chain);
    const told: Certificate[] = [];
    const sync = createLedgerSync(late, async (after) => ledgerPage(peer, after), {
      onCertificate: (c) => void told.push(c),
    });
    expect(await sync.sync()).toEqual({ added: 2 });
    expect(late.ledger()).toEqual(peer.ledger());
    // The node lists what it now holds (its status's `certified`): the two it lacked, in order.
    expect(told.map(certificateDigest)).toEqual(chain.slice(0, 2).map(certificateDigest));
  });
});

describe("ledger catch-up on a full disk", () => {
  it("says the store refused what a peer sent, naming the file, keeps none of it, and does not reject", async () => {
    const chain = chainOf(2);
    const real = tempStore();
    const full: Store = {
      ...real,
      putCertificate: () => {
        throw new StoreWriteError(real.path, "database or disk is full");
      },
    };
    const mine = new LedgerBook(full, contract);
    const peer = book(chain);
    const lines: { level: number; msg: string }[] = [];
    const log = pino({ level: "debug" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const refused: string[] = [];
    const catchUp = createLedgerCatchUp(
      createLedgerSync(mine, async (after) => ledgerPage(peer, after)),
      log,
      (err) => void refused.push(err.message),
      { now: Date.now },
    );
    await catchUp.start();
    expect(refused).toEqual([`${real.path}: cannot write walras store (database or disk is full)`]);
    expect(lines).toEqual([]);
    expect(mine.anchor()).toBeNull();
  });
});

/** The ledger built from scratch, as before it was kept: what the kept one must equal. */
function rebuilt(on: Contract, certificates: readonly Certificate[], amendments = new Map()) {
  const tip = [...certificates].sort((a, b) => b.commit.epoch - a.commit.epoch)[0];
  return buildLedger({
    contract: on,
    certificates,
    tip: tip ? certificateDigest(tip) : null,
    amendments,
  });
}

describe("the ledger a node keeps built", () => {
  it("is built once, extended by each next slot, and a late commit replaces its slot's entry", () => {
    const chain = chainOf(4);
    const [c0, c1, c2, c3] = chain as [Certificate, Certificate, Certificate, Certificate];
    const b = book([c0, c1]);
    const kept = b.ledger().entries;
    // A second request reads the same ledger: before, every request built it from the store.
    expect(b.ledger().entries).toBe(kept);

    b.addCertificate(c2);
    expect(b.ledger().entries).toBe(kept); // extended in place, not built again
    expect(b.ledger()).toEqual(rebuilt(contract, [c0, c1, c2]));

    // The slot first with fewer signatures, then again with a late commit's signature added.
    expect(c3.signatures.length).toBeGreaterThan(1);
    const quorum = { ...c3, signatures: c3.signatures.slice(0, -1) };
    b.addCertificate(quorum);
    b.addCertificate(c3);
    expect(b.ledger().entries).toBe(kept);
    expect(b.ledger()).toEqual(rebuilt(contract, chain));
    expect(b.indexOf(certificateDigest(c3))).toBe(3);
    expect(b.indexOf("0".repeat(64))).toBe(-1);
  });

  it("is built again when a slot fills a gap", () => {
    const chain = chainOf(3);
    const [c0, c1, c2] = chain as [Certificate, Certificate, Certificate];
    const b = book([c0, c2]);
    expect(b.ledger().entries).toHaveLength(1);
    b.addCertificate(c1);
    expect(b.ledger()).toEqual(rebuilt(contract, chain));
  });

  it("extended across an amendment, carries it and charges under the amended terms", () => {
    const c = contractSchema.parse({
      name: "amended-ledger",
      resources: [{ id: "cpu", capacity: 6 }],
      fees: { perUnit: 0.5, fixed: 0 },
      minMembers: 4,
      timeouts: { roundMs: 2000, announceMs: 200 },
    });
    const net = new SimulatedNetwork({ contract: c, seed: 4 });
    const nodes = paperProfiles(4, 11).map((p, i) => net.addAgent(`n${i}`, p));
    const node = nodes[0] as SimNode;
    const certified = () => node.machine.certificates().length;
    // The founding slot, then the slot that makes every bidder a voter: they approve amendments.
    expect(net.runUntil(() => certified() >= 2, 60_000)).toBe(true);
    const terms = amendTerms(c, contractId(c), { capacities: { cpu: 4 }, perUnit: 0.75 });
    const id = contractId(terms);
    net.act(nodes[1] as SimNode, (now) => ({ type: "amend", now, terms }));
    net.runUntil(() => false, 300);
    for (const n of [nodes[2], nodes[3]])
      net.act(n as SimNode, (now) => ({ type: "approve", now, amendment: id }));
    const amendedHeld = () => node.machine.certificates().some((x) => x.commit.terms === id);
    expect(net.runUntil(amendedHeld, 60_000)).toBe(true);
    const chain = [...node.machine.certificates()].sort((a, b) => a.commit.epoch - b.commit.epoch);
    const amendment = {
      terms,
      signatures: node.machine.amendmentEvidence(id) as (AmendMessage | ApproveMessage)[],
    };

    const b = book([], c);
    for (const cert of chain) {
      b.ledger(); // kept built, so each slot extends it
      if (cert.commit.terms === id) expect(b.addAmendment(id, amendment, cert.commit.previous)).toBe(true);
      b.addCertificate(cert);
    }
    const expected = rebuilt(c, chain, new Map([[id, amendment]]));
    expect(expected.entries.map((e) => e.type)).toContain("amendment");
    expect(b.ledger()).toEqual(expected);
  });
});

describe("a ledger sync page", () => {
  it("stops at its byte budget, always carries one entry, and says more; catch-up follows the pages", async () => {
    const chain = chainOf(4);
    const peer = book(chain);
    const size = (e: LedgerEntry) => Buffer.byteLength(JSON.stringify(e));
    const sizes = peer.ledger().entries.map(size);
    // Room for two entries, not three.
    const budget = (sizes[0] as number) + (sizes[1] as number) + 1;
    const first = ledgerPage(peer, undefined, budget);
    expect(first.entries).toHaveLength(2);
    expect(first.more).toBe(true);
    // One entry over the budget on its own still goes: a page that carried none would stall.
    const tiny = ledgerPage(peer, undefined, 1);
    expect(tiny.entries).toHaveLength(1);
    expect(tiny.more).toBe(true);
    expect(chain.length).toBeLessThan(LEDGER_SYNC_PAGE); // so the entry count does not cut them

    const late = book([]);
    const pages: number[] = [];
    const sync = createLedgerSync(late, async (after) => {
      const page = ledgerPage(peer, after, budget);
      pages.push(page.entries.length);
      return page;
    });
    expect(await sync.sync()).toEqual({ added: 4 });
    expect(pages).toEqual([2, 2]);
    expect(late.ledger()).toEqual(peer.ledger());
  });

  it("a run stopped at its page limit says so, naming the peer and where, and the next run goes on from there", async () => {
    const chain = chainOf(5);
    const peer = book(chain);
    const late = book([]);
    const warned: { fields: Record<string, unknown>; message: string }[] = [];
    const log = {
      warn: (fields: Record<string, unknown>, message: string) => void warned.push({ fields, message }),
    };
    const asked: (string | undefined)[] = [];
    // One entry a page, two pages a run.
    const sync = createLedgerSync(
      late,
      async (after) => {
        asked.push(after);
        return { ...ledgerPage(peer, after, 1), peer: "12D3KooWServer" };
      },
      { log, maxPages: 2 },
    );
    expect(await sync.sync()).toEqual({ added: 2, more: true });
    const second = certificateDigest(chain[1] as Certificate);
    expect(warned).toHaveLength(1);
    expect(warned[0]?.fields).toMatchObject({
      peer: "12D3KooWServer",
      pages: 2,
      after: second,
      epoch: chain[1]?.commit.epoch,
    });
    expect(warned[0]?.message).toMatch(/stopped at its page limit/);
    // The next run asks after the last certificate kept, not from the start.
    asked.length = 0;
    expect(await sync.sync()).toEqual({ added: 2, more: true });
    expect(asked[0]).toBe(second);
    expect(await sync.sync()).toEqual({ added: 1 });
    // The last run ended on a page without `more`: nothing more to say.
    expect(warned).toHaveLength(2);
    expect(late.ledger()).toEqual(peer.ledger());
  });

  it("a node behind by more pages than a run holds catches up fully with no new trigger", async () => {
    const peer = book(chainOf(7));
    const late = book([]);
    // One entry a page, two pages a run: four runs, of which only the first has a trigger.
    const { catchUp, stop } = drivenCatchUp(
      createLedgerSync(late, async (after) => ledgerPage(peer, after, 1), { maxPages: 2 }),
      { first: 5, max: 20 },
    );
    try {
      await catchUp.start();
      await waitFor(
        "the late node to hold the peer's whole ledger",
        () => late.ledger().entries.length === 7,
      );
      expect(late.ledger()).toEqual(peer.ledger());
      expect(catchUp.continueAt()).toBe(Number.POSITIVE_INFINITY);
    } finally {
      stop();
    }
  });

  it("a peer that always says more is followed for MAX_LEDGER_CONTINUED_RUNS runs after the trigger's, then left", async () => {
    const runs = MAX_LEDGER_CONTINUED_RUNS + 1;
    // Real entries, one a page, more of them than the runs take; `more` said even at the end.
    const source = book(chainOf(2 * runs + 4));
    const late = book([]);
    let asks = 0;
    const { catchUp, stop } = drivenCatchUp(
      createLedgerSync(
        late,
        async (after) => {
          asks++;
          return { ...ledgerPage(source, after, 1), more: true };
        },
        { maxPages: 2 },
      ),
      { first: 1, max: 1 },
    );
    try {
      await catchUp.start();
      await waitFor("the series of runs to end", () => asks >= 2 * runs && catchUp.continueAt() === Infinity);
      expect(asks).toBe(2 * runs);
      expect(late.ledger().entries).toHaveLength(2 * runs);
    } finally {
      stop();
    }
  });

  it("that fails verification is reported naming the peer that sent it", async () => {
    const chain = chainOf(2);
    const peer = book(chain);
    const late = book([]);
    const sender = "12D3KooWSender";
    const sync = createLedgerSync(late, async (after) => {
      const page = ledgerPage(peer, after);
      const [e0, ...rest] = page.entries as [LedgerEntry & { type: "certificate" }, ...LedgerEntry[]];
      const forged = {
        ...e0,
        certificate: { ...e0.certificate, commit: { ...e0.certificate.commit, prices: [9] } },
      };
      return { ...page, entries: [forged, ...rest], peer: sender };
    });
    const result = await sync.sync();
    expect(result.added).toBe(0);
    expect(result.error).toMatch(new RegExp(`^ledger page from ${sender}: entry 0 `));
    const malformed = await createLedgerSync(late, async () => ({
      entries: "no",
      more: false,
      peer: sender,
    })).sync();
    expect(malformed.error).toMatch(new RegExp(`^ledger page from ${sender}: malformed: entries: `));
  });
});

describe("certificates read from the store", () => {
  it("a row that is not JSON or not a certificate is skipped, left on disk and named with its store and epoch", () => {
    const chain = chainOf(2);
    const store = tempStore();
    const first = new LedgerBook(store, contract);
    for (const c of chain) first.addCertificate(c);
    store.putCertificate(7, new TextEncoder().encode("{not json"));
    store.putCertificate(8, new TextEncoder().encode(JSON.stringify({ commit: {} })));
    const warnings: { fields: Record<string, unknown>; message: string }[] = [];
    const reopened = new LedgerBook(store, contract, {
      warn: (fields, message) => warnings.push({ fields, message }),
    });
    expect(reopened.ledger()).toEqual(rebuilt(contract, chain));
    expect(warnings).toHaveLength(2);
    expect(warnings[0]?.fields).toMatchObject({ store: store.path, epoch: 7 });
    expect(warnings[0]?.message).toMatch(/not JSON/);
    expect(warnings[1]?.fields).toMatchObject({ store: store.path, epoch: 8 });
    expect(warnings[1]?.message).toMatch(/not a valid certificate/);
    // Nothing was dropped from the store: the operator can still look at the rows.
    expect(store.certificates().map((r) => r.epoch)).toEqual([...chain.map((c) => c.commit.epoch), 7, 8]);
  });
});

/**
 * A market amended once (the setup of "extended across an amendment", with a period so that
 * slots keep coming): its chain up to `amendedSlots` certificates under the amended terms, and the
 * amendment as the first node's machine saw it pass.
 */
function amendedChain(amendedSlots: number) {
  const c = periodicMarket("amended-ledger", 4);
  // Where each node's machine said the amendment goes: after the certificate its plan links to.
  const follows: (string | null)[] = [];
  const observer = (e: NetworkEvent) => {
    for (const a of "actions" in e ? e.actions : []) if (a.type === "terms-changed") follows.push(a.ledger);
  };
  const net = new SimulatedNetwork({ contract: c, seed: 4, observer });
  const nodes = paperProfiles(4, 11).map((p, i) => net.addAgent(`n${i}`, p));
  const node = nodes[0] as SimNode;
  expect(net.runUntil(() => node.machine.certificates().length >= 2, 60_000)).toBe(true);
  const terms = amendTerms(c, contractId(c), { capacities: { cpu: 4 }, perUnit: 0.75 });
  const id = contractId(terms);
  net.act(nodes[1] as SimNode, (now) => ({ type: "amend", now, terms }));
  net.runUntil(() => false, 300);
  for (const n of [nodes[2], nodes[3]])
    net.act(n as SimNode, (now) => ({ type: "approve", now, amendment: id }));
  const amended = () => node.machine.certificates().filter((x) => x.commit.terms === id).length;
  expect(net.runUntil(() => amended() >= amendedSlots, 120_000)).toBe(true);
  const all = [...node.machine.certificates()].sort((a, b) => a.commit.epoch - b.commit.epoch);
  const first = all.findIndex((x) => x.commit.terms === id);
  const chain = all.slice(0, first + amendedSlots);
  for (let i = 1; i < chain.length; i++)
    expect(chain[i]?.commit.previous).toBe(certificateDigest(chain[i - 1] as Certificate));
  const signatures = node.machine.amendmentEvidence(id) as (AmendMessage | ApproveMessage)[];
  return {
    contract: c,
    id,
    /** Certificates under the contract's own terms, then those under the amended ones. */
    before: chain.slice(0, first),
    after: chain.slice(first),
    amendment: { terms, signatures },
    follows,
  };
}

describe("an amendment a node holds", () => {
  it("is kept only with a quorum of signatures from members of the certificate it follows", () => {
    const { contract: c, id, before, after, amendment } = amendedChain(1);
    const last = before.at(-1) as Certificate;
    const quorum = quorumSize(c, last.commit.members.length);
    expect(new Set(amendment.signatures.map((m) => m.agent)).size).toBeGreaterThanOrEqual(quorum);
    const b = book(before, c);
    // What a node's machine saw of the votes can be short of a quorum: acceptors take an amended
    // plan without seeing them. Kept, the ledger it serves would fail every verifier.
    const short = { ...amendment, signatures: amendment.signatures.slice(0, quorum - 1) };
    expect(b.addAmendment(id, short, certificateDigest(last))).toBe(false);
    b.addCertificate(after[0] as Certificate);
    expect(verifyLedger(b.ledger(), c).ok).toBe(true);
    // With a quorum it is kept, and the ledger carries it.
    expect(b.addAmendment(id, amendment, certificateDigest(last))).toBe(true);
    expect(verifyLedger(b.ledger(), c)).toMatchObject({ ok: true, amendments: 1 });
  });

  it("that does not verify (stored before this rule) is replaced by catch-up with one that does", async () => {
    const { contract: c, id, before, after, amendment } = amendedChain(2);
    const chain = [...before, ...after];
    const store = tempStore();
    const old = new LedgerBook(store, c);
    for (const cert of chain) old.addCertificate(cert);
    // As the executor stored the machine's evidence before: one signature, not a quorum.
    const bad = { ...amendment, signatures: amendment.signatures.slice(0, 1) };
    store.saveState("amendments", { [id]: bad });
    const mine = new LedgerBook(store, c);
    const peer = book(before, c);
    expect(peer.addAmendment(id, amendment, certificateDigest(before.at(-1) as Certificate))).toBe(true);
    for (const cert of after) peer.addCertificate(cert);
    expect(mine.holdsChainTo(certificateDigest(after.at(-1) as Certificate))).toBe(false);
    const sync = createLedgerSync(mine, async (from) => ledgerPage(peer, from));
    expect(await sync.sync()).toEqual({ added: 0 });
    expect(mine.holdsChainTo(certificateDigest(after.at(-1) as Certificate))).toBe(true);
    expect(mine.ledger()).toEqual(peer.ledger());
    expect(verifyLedger(mine.ledger(), c)).toMatchObject({ ok: true, amendments: 1 });
    // And it is the verified copy that the store now holds.
    expect(new LedgerBook(store, c).ledger()).toEqual(peer.ledger());
  });

  it("not held, the first certificate under its terms is a missing link: not charged under the old terms, fetched once a peer has it", async () => {
    const { contract: c, id, before, after, amendment } = amendedChain(1);
    const last = before.at(-1) as Certificate;
    const peer = book(before, c);
    // A node that joined late, its first epoch the amended one: it never saw the votes.
    const late = book([], c);
    const sync = createLedgerSync(late, async (from) => ledgerPage(peer, from));
    expect(await sync.sync()).toEqual({ added: before.length });
    const first = after[0] as Certificate;
    late.addCertificate({ ...first, signatures: first.signatures.slice(0, -1) });
    // A late signature for a slot past where the ledger stops changes nothing: not built again.
    const kept = late.ledger().entries;
    late.addCertificate(first);
    expect(late.ledger().entries).toBe(kept);
    expect(late.holdsChainTo(certificateDigest(first))).toBe(false);
    expect(late.anchor()).toEqual(last);
    // The ledger it serves stops before the certificate it cannot charge.
    expect(verifyLedger(late.ledger(), c)).toMatchObject({ ok: true, certificates: before.length });
    expect(late.indexOf(certificateDigest(first))).toBe(-1);

    expect(peer.addAmendment(id, amendment, certificateDigest(last))).toBe(true);
    peer.addCertificate(first);
    expect(await sync.sync()).toEqual({ added: 0 });
    expect(late.holdsChainTo(certificateDigest(first))).toBe(true);
    expect(late.ledger()).toEqual(peer.ledger());
    expect(verifyLedger(late.ledger(), c)).toMatchObject({ ok: true, amendments: 1 });
  });

  it("with the slot before the first amended one missing, catch-up fills it under the anchor's own terms", async () => {
    const { contract: c, id, before, after, amendment } = amendedChain(2);
    const last = before.at(-1) as Certificate;
    const [a0, a1] = after as [Certificate, Certificate];
    const mine = book(before, c);
    expect(mine.addAmendment(id, amendment, certificateDigest(last))).toBe(true);
    mine.addCertificate(a1); // a0 missed
    const peer = book(before, c);
    peer.addAmendment(id, amendment, certificateDigest(last));
    for (const cert of after) peer.addCertificate(cert);
    const sync = createLedgerSync(mine, async (from) => ledgerPage(peer, from));
    expect(await sync.sync()).toEqual({ added: 1 });
    expect(mine.holdsChainTo(certificateDigest(a1))).toBe(true);
    expect(mine.anchor()).toBe(a1);
    expect(mine.ledger()).toEqual(peer.ledger());
    expect(a0.commit.terms).toBe(id);
  });
});

describe("a node's executor on amended terms", () => {
  it("keeps the votes its machine saw only at a quorum, and catches up otherwise", async () => {
    const { contract: c, id, before, after, amendment, follows } = amendedChain(1);
    const last = certificateDigest(before.at(-1) as Certificate);
    // The machine names the certificate the amendment follows: every node's, the same one.
    expect(follows.length).toBeGreaterThanOrEqual(4);
    expect(new Set(follows)).toEqual(new Set([last]));
    const run = async (signatures: readonly (AmendMessage | ApproveMessage)[]) => {
      const ledger = book(before, c);
      let catchUps = 0;
      const executor = stubbedExecutor({ ledger, catchUpLedger: () => void catchUps++ });
      const action = {
        type: "terms-changed",
        epoch: (after[0] as Certificate).commit.epoch,
        terms: amendment.terms,
        evidence: signatures,
        ledger: last,
      } as const;
      await executor.perform([action]);
      ledger.addCertificate(after[0] as Certificate);
      return { catchUps, check: verifyLedger(ledger.ledger(), c) };
    };
    const quorum = quorumSize(c, (before.at(-1) as Certificate).commit.members.length);
    expect(await run(amendment.signatures.slice(0, quorum - 1))).toMatchObject({
      catchUps: 1,
      check: { ok: true, amendments: 0 },
    });
    expect(await run(amendment.signatures)).toMatchObject({
      catchUps: 0,
      check: { ok: true, amendments: 1 },
    });
    expect(id).toBe(contractId(amendment.terms));
  });
});

describe("an amendment kept before a restart", () => {
  it("offered before the certificate it follows is held, is kept unverified and placed when the first slot under its terms comes", () => {
    const { contract: c, id, before, after, amendment } = amendedChain(1);
    const b = book(before.slice(0, -1), c);
    const last = before.at(-1) as Certificate;
    // The machine adopted the amended epoch before this node held the certificate the plan links to.
    expect(b.addAmendment(id, amendment, certificateDigest(last))).toBe(false);
    b.addCertificate(last);
    const first = after[0] as Certificate;
    b.addCertificate(first);
    expect(b.holdsChainTo(certificateDigest(first))).toBe(true);
    expect(verifyLedger(b.ledger(), c)).toMatchObject({ ok: true, amendments: 1 });
  });

  it("with no slot under its terms held yet, is placed when the first one comes", () => {
    const { contract: c, id, before, after, amendment } = amendedChain(1);
    const store = tempStore();
    const b = new LedgerBook(store, c);
    for (const cert of before) b.addCertificate(cert);
    expect(b.addAmendment(id, amendment, certificateDigest(before.at(-1) as Certificate))).toBe(true);
    const reopened = new LedgerBook(store, c);
    reopened.ledger(); // kept built: the first amended slot extends it
    const first = after[0] as Certificate;
    reopened.addCertificate(first);
    expect(reopened.holdsChainTo(certificateDigest(first))).toBe(true);
    expect(verifyLedger(reopened.ledger(), c)).toMatchObject({ ok: true, amendments: 1 });
  });
});

/** A market's chain (as chainOf) with its members' keys, to sign certificates its members never made. */
function keyedChainOf(length: number) {
  const net = new SimulatedNetwork({ contract, seed: 5 });
  const signers = new Map<string, Signer>();
  const nodes = paperProfiles(3, 9).map((p, i) => {
    const signer = net.newSigner();
    signers.set(signer.id, signer);
    return net.addAgent(`n${i}`, p, signer);
  });
  const held = () => nodes[0]?.machine.certificates() ?? [];
  expect(net.runUntil(() => held().length >= length, 120_000)).toBe(true);
  const chain = [...held()].sort((a, b) => a.commit.epoch - b.commit.epoch).slice(0, length);
  /** `c` with its commit changed by `change`, signed by every member. */
  const resigned = (c: Certificate, change: Partial<Certificate["commit"]>): Certificate =>
    buildCertificate(
      c.commit.members.map((agent) =>
        signMessage<CommitMessage>(
          { ...c.commit, ...change, agent } as Unsigned<CommitMessage>,
          signers.get(agent) as Signer,
        ),
      ),
    );
  return { chain, resigned };
}

/** keyedChainOf(6)'s chain, slot by slot. */
type SixCertificates = [Certificate, Certificate, Certificate, Certificate, Certificate, Certificate];

/**
 * Six slots of which the second's successor was left out: epoch 3's plan linked to c1 (its
 * proposer lacked c2's certificate), so the peer's ledger is c0, c1, s3, s4, s5 and c2 is off it.
 */
function leftOutChain() {
  const { chain, resigned } = keyedChainOf(6);
  const [c0, c1, c2, c3, c4, c5] = chain as SixCertificates;
  const s3 = resigned(c3, { previous: certificateDigest(c1) });
  const s4 = resigned(c4, { previous: certificateDigest(s3) });
  const s5 = resigned(c5, { previous: certificateDigest(s4) });
  return { c0, c1, c2, s3, s4, s5, peer: book([c0, c1, c2, s3, s4, s5]) };
}

describe("two certificates naming the same one before", () => {
  it("a slot left out of the chain (a later plan linked past it) is not where catch-up goes on, whichever is held first", async () => {
    const { c0, c1, c2, s3, s5, peer } = leftOutChain();
    expect(verifyLedger(peer.ledger(), contract)).toMatchObject({ ok: true, certificates: 5 });
    // This node missed s4, and held c2 before s3 or (assembled late) after it.
    for (const held of [
      [c0, c1, c2, s3, s5],
      [c0, c1, s3, s5, c2],
    ]) {
      const mine = book(held);
      expect(mine.anchor()).toEqual(s3);
      const sync = createLedgerSync(mine, async (after) => ledgerPage(peer, after));
      expect(await sync.sync()).toEqual({ added: 1 });
      expect(mine.holdsChainTo(certificateDigest(s5))).toBe(true);
      expect(mine.ledger()).toEqual(peer.ledger());
    }
  });

  it("a page of made-up slots after a certificate deep behind the anchor is refused (open membership)", () => {
    const { chain } = keyedChainOf(6);
    const [, , , c3, c4, c5] = chain as SixCertificates;
    // Three fresh keys: in an open market a certificate proves only that its own members signed.
    const strangers = new SimulatedNetwork({ contract, seed: 99 });
    const sybils = [strangers.newSigner(), strangers.newSigner(), strangers.newSigner()].sort((a, b) =>
      a.id < b.id ? -1 : 1,
    );
    const forge = (body: Certificate, previous: Certificate, epoch: number): Certificate => {
      const members = sybils.map((x) => x.id);
      const allocations = body.commit.allocations.map((a, i) => ({
        ...a,
        agent: members[i] as (typeof members)[number],
      }));
      return buildCertificate(
        sybils.map((x) =>
          signMessage<CommitMessage>(
            {
              ...body.commit,
              previous: certificateDigest(previous),
              epoch,
              members,
              allocations,
              agent: x.id,
            } as unknown as Unsigned<CommitMessage>,
            x,
          ),
        ),
      );
    };
    const entry = (c: Certificate): LedgerEntry => ({
      type: "certificate",
      certificate: c,
      charges: chargesAt(contract, c.commit.prices, c.commit.allocations),
    });
    const x = forge(c4, c3, 1000);
    const y = forge(c5, x, 1001);
    const mine = book(chain);
    const before = mine.ledger();
    // Two slots behind the anchor: a left-out slot is only ever one (LEFT_OUT_SLOTS).
    expect("error" in mine.merge([entry(x), entry(y)])).toBe(true);
    expect(mine.ledger()).toEqual(before);
    expect(mine.anchor()).toEqual(c5);
  });

  it("a second certificate for an epoch (a faulty quorum's) does not take the held one's place", async () => {
    const { chain, resigned } = keyedChainOf(5);
    const [c0, c1, c2, , c4] = chain as [Certificate, Certificate, Certificate, Certificate, Certificate];
    const f2 = resigned(c2, { round: c2.commit.round + 1 });
    expect(certificateDigest(f2)).not.toBe(certificateDigest(c2));
    const peer = book(chain);
    // c3 missed: catch-up must ask after c2, on the chain the later slot follows.
    const mine = book([c0, c1, c2, f2, c4]);
    expect(mine.anchor()).toEqual(c2);
    const sync = createLedgerSync(mine, async (after) => ledgerPage(peer, after));
    expect(await sync.sync()).toEqual({ added: 1 });
    expect(mine.ledger()).toEqual(peer.ledger());
  });

  it("a left-out slot held, the slot after it on the chain missing: the peer answers after the slot its ledger shares", async () => {
    const { c0, c1, c2, s4, s5, peer } = leftOutChain();
    // Asked after c2 (held, off its ledger), the peer answers after c1; unknown to it, nothing.
    expect(ledgerPage(peer, certificateDigest(c2)).entries).toEqual(
      ledgerPage(peer, certificateDigest(c1)).entries,
    );
    expect(ledgerPage(peer, certificateDigest(c2)).entries).toHaveLength(3);
    expect(ledgerPage(peer, "0".repeat(64))).toEqual({ entries: [], more: false });
    for (const held of [
      [c0, c1, c2],
      [c0, c1, c2, s5],
      [c0, c1, c2, s4, s5],
    ]) {
      const mine = book(held);
      expect(mine.anchor()).toEqual(c2); // nothing it holds names s3 yet
      const sync = createLedgerSync(mine, async (after) => ledgerPage(peer, after));
      expect(await sync.sync()).toEqual({ added: 6 - held.length });
      expect(mine.anchor()).toEqual(s5);
      expect(mine.holdsChainTo(certificateDigest(s5))).toBe(true);
      expect(mine.ledger()).toEqual(peer.ledger());
    }
    // The node's own machine assembles c2 while the page after c1 is on its way.
    const mine = book([c0, c1]);
    let asked = 0;
    const sync = createLedgerSync(mine, async (after) => {
      if (asked++ === 0) mine.addCertificate(c2);
      return ledgerPage(peer, after);
    });
    expect(await sync.sync()).toEqual({ added: 3 });
    expect(mine.ledger()).toEqual(peer.ledger());
  });

  it("a second certificate for an epoch is not stored over the first: after a restart the chain is the one held before", () => {
    const { chain, resigned } = keyedChainOf(4);
    const [c0, c1, c2, c3] = chain as [Certificate, Certificate, Certificate, Certificate];
    const f2 = resigned(c2, { round: c2.commit.round + 1 });
    const store = tempStore();
    const live = new LedgerBook(store, contract);
    // A copy of c2 short of a signature first: the complete one still replaces it on disk.
    for (const c of [c0, c1, { ...c2, signatures: c2.signatures.slice(0, -1) }, c2, c3, f2])
      live.addCertificate(c);
    expect(live.anchor()).toEqual(c3);
    const reopened = new LedgerBook(store, contract);
    expect(reopened.anchor()).toEqual(c3);
    expect(reopened.has(certificateDigest(f2))).toBe(false);
    expect(reopened.ledger()).toEqual(live.ledger());
  });

  it("held first, a second certificate for an epoch gives way once the slot after the other one comes", async () => {
    const { chain, resigned } = keyedChainOf(4);
    const [c0, c1, c2, c3] = chain as [Certificate, Certificate, Certificate, Certificate];
    const f2 = resigned(c2, { round: c2.commit.round + 1 });
    const mine = book([c0, c1, f2, c2]);
    expect(mine.anchor()).toEqual(f2); // nothing tells them apart yet: the first held keeps the link
    mine.addCertificate(c3);
    expect(mine.anchor()).toEqual(c3);
  });
});

describe("an amendment kept unverified, the certificate before it held after the first slot under its terms", () => {
  it("is checked then, and the ledger goes on with no peer's copy", () => {
    const { contract: c, id, before, after, amendment } = amendedChain(1);
    const b = book(before.slice(0, -1), c);
    const last = before.at(-1) as Certificate;
    expect(b.addAmendment(id, amendment, certificateDigest(last))).toBe(false);
    const first = after[0] as Certificate;
    b.addCertificate(first);
    b.addCertificate(last);
    expect(b.holdsChainTo(certificateDigest(first))).toBe(true);
    expect(verifyLedger(b.ledger(), c)).toMatchObject({ ok: true, amendments: 1 });
  });
});

/**
 * A market amended twice in consecutive slots, B → C (A1) → D (A2): the certificates up to D and
 * each amendment as the first node's machine saw it pass.
 */
function twiceAmendedChain() {
  const c = periodicMarket("amended-ledger", 4);
  let changed = 0;
  const observer = (e: NetworkEvent) => {
    for (const a of "actions" in e ? e.actions : []) if (a.type === "terms-changed") changed++;
  };
  const net = new SimulatedNetwork({ contract: c, seed: 4, observer });
  const nodes = paperProfiles(4, 11).map((p, i) => net.addAgent(`n${i}`, p));
  const node = nodes[0] as SimNode;
  expect(net.runUntil(() => node.machine.certificates().length >= 2, 60_000)).toBe(true);
  const amend = (terms: Contract) => {
    const id = contractId(terms);
    net.act(nodes[1] as SimNode, (now) => ({ type: "amend", now, terms }));
    net.runUntil(() => false, 100);
    for (const n of [nodes[2], nodes[3]])
      net.act(n as SimNode, (now) => ({ type: "approve", now, amendment: id }));
    return id;
  };
  const t1 = amendTerms(c, contractId(c), { capacities: { cpu: 4 }, perUnit: 0.75 });
  const id1 = amend(t1);
  expect(net.runUntil(() => changed >= 4, 60_000)).toBe(true);
  const am1 = {
    terms: t1,
    signatures: node.machine.amendmentEvidence(id1) as (AmendMessage | ApproveMessage)[],
  };
  const t2 = amendTerms(t1, id1, { capacities: { cpu: 5 }, perUnit: 0.6 });
  const id2 = amend(t2);
  const held = () => node.machine.certificates();
  expect(net.runUntil(() => held().some((x) => x.commit.terms === id2), 120_000)).toBe(true);
  const all = [...held()].sort((a, b) => a.commit.epoch - b.commit.epoch);
  const at = all.findIndex((x) => x.commit.terms === id1);
  const [B, C, D] = all.slice(at - 1, at + 2) as [Certificate, Certificate, Certificate];
  // The setup this needs: A2 passed in the slot right after A1's first.
  expect(D.commit.terms).toBe(id2);
  expect(D.commit.previous).toBe(certificateDigest(C));
  const evidence = nodes.map((n) => n.machine.amendmentEvidence(id2)).find((e) => e);
  const am2 = { terms: t2, signatures: evidence as (AmendMessage | ApproveMessage)[] };
  return { contract: c, before: all.slice(0, at - 1), B, C, D, id1, am1, id2, am2 };
}

describe("two amendments kept unverified in consecutive slots, the certificate before both held last", () => {
  it("are both checked when it comes, whichever order the slots after it came in", () => {
    const { contract: c, before, B, C, D, id1, am1, id2, am2 } = twiceAmendedChain();
    for (const order of [
      [D, B, C],
      [D, C, B],
    ]) {
      const b = book(before, c);
      expect(b.addAmendment(id1, am1, certificateDigest(B))).toBe(false); // B not held: kept unverified
      expect(b.addAmendment(id2, am2, certificateDigest(C))).toBe(false); // C not held: kept unverified
      for (const x of order) b.addCertificate(x);
      expect(b.holdsChainTo(certificateDigest(D))).toBe(true);
      expect(b.anchor()).toEqual(D);
      expect(verifyLedger(b.ledger(), c)).toMatchObject({ ok: true, amendments: 2 });
    }
  });
});
