/**
 * The scan docs/security.md cites ("Forge or rewrite the ledger"): simulated markets of 5 amended
 * once under loss, each node's ledger kept as its node keeps it (every `certificate` and
 * `terms-changed` action its machine emits, in order, as the action executor hands them to
 * LedgerBook), then checked with `ledger verify`'s rule; a node whose chain is not whole catches
 * up from the others, once each, as ledger sync does.
 *
 *   node scripts/amended-ledger-scan.ts [markets=30] [loss=0.15] [first seed=1] [book module]
 *
 * A book module of an older LedgerBook (git show REV:packages/node/src/ledger/ledger-book.ts into
 * that folder) gives the figures before a change; one whose addAmendment returns nothing kept
 * every vote set it was handed.
 */
import { resolve } from "node:path";
import {
  type AmendMessage,
  type ApproveMessage,
  amendTerms,
  type Certificate,
  certificateDigest,
  contractId,
  type MachineAction,
  type NetworkEvent,
  paperProfiles,
  type SimNode,
  SimulatedNetwork,
  verifyLedger,
} from "@walras/protocol";
import { periodicMarket } from "@walras/test-support";
import type { LedgerBook } from "../packages/node/src/ledger/ledger-book.ts";
import { createLedgerSync, ledgerPage } from "../packages/node/src/ledger/ledger-sync.ts";
import type { Store } from "../packages/node/src/store/store.ts";

const markets = Number(process.argv[2] ?? 30);
const loss = Number(process.argv[3] ?? 0.15);
const firstSeed = Number(process.argv[4] ?? 1);
const module = process.argv[5] ? resolve(process.argv[5]) : "../packages/node/src/ledger/ledger-book.ts";
const { LedgerBook: Book } = (await import(module)) as { LedgerBook: typeof LedgerBook };

const contract = periodicMarket("amended-ledger-scan", 5);
const terms = amendTerms(contract, contractId(contract), { capacities: { cpu: 4 }, perUnit: 0.75 });
const id = contractId(terms);

/** A store in memory: the book's rules are measured, not the disk. */
function memoryStore(): Store {
  const state = new Map<string, unknown>();
  return {
    path: ":memory:",
    certificates: () => [],
    loadState: (key: string) => state.get(key),
    saveState: (key: string, value: unknown) => void state.set(key, value),
    putCertificate: () => {},
  } as unknown as Store;
}

const totals = { nodes: 0, adopted: 0, kept: 0, keptNone: 0, failing: 0, notWhole: 0, wholeAfter: 0 };
let unfounded = 0;
let passed = 0;
for (let seed = firstSeed; seed < firstSeed + markets; seed++) {
  const books = new Map<string, LedgerBook>();
  const adopted = new Map<string, boolean>();
  const bookOf = (name: string) => {
    const held = books.get(name);
    if (held) return held;
    const b = new Book(memoryStore(), contract);
    books.set(name, b);
    return b;
  };
  // As the action executor does (action-executor.ts: `certificate`, `terms-changed`).
  const perform = (node: SimNode, actions: readonly MachineAction[]) => {
    for (const a of actions) {
      if (a.type === "certificate") bookOf(node.name).addCertificate(a.certificate);
      else if (a.type === "terms-changed" && contractId(a.terms) === id) {
        const signatures = (a.evidence ?? []).filter(
          (m): m is AmendMessage | ApproveMessage => m.kind === "amend" || m.kind === "approve",
        );
        const kept = bookOf(node.name).addAmendment(id, { terms: a.terms, signatures }, a.ledger);
        adopted.set(node.name, kept !== false);
      }
    }
  };
  const observer = (e: NetworkEvent) => {
    if ("replayed" in e) perform(e.node, e.replayed);
    if ("actions" in e) perform(e.node, e.actions);
  };
  const net = new SimulatedNetwork({ contract, seed, loss, observer });
  const nodes = paperProfiles(5, 11).map((p, i) => net.addAgent(`n${i}`, p));
  const founder = nodes[0] as SimNode;
  if (!net.runUntil(() => founder.machine.certificates().length >= 2, 120_000)) {
    unfounded++;
    continue;
  }
  net.act(nodes[1] as SimNode, (now) => ({ type: "amend", now, terms }));
  net.runUntil(() => false, 300);
  for (const n of nodes.slice(2)) net.act(n, (now) => ({ type: "approve", now, amendment: id }));
  // Two slots under the amended terms at every node; under loss the votes may never pass (no
  // node re-sends them), and the market then runs on under its contract.
  const amendedSlots = (n: SimNode) => n.machine.certificates().filter((c) => c.commit.terms === id).length;
  net.runUntil(() => nodes.every((n) => amendedSlots(n) >= 2), 180_000);
  if (nodes.some((n) => amendedSlots(n) > 0)) passed++;

  for (const n of nodes) {
    totals.nodes++;
    const kept = adopted.get(n.name);
    if (kept === undefined) continue;
    totals.adopted++;
    if (kept) totals.kept++;
    else totals.keptNone++;
    const book = bookOf(n.name);
    const tip = book.tip() as Certificate;
    if (book.holdsChainTo(certificateDigest(tip))) {
      // Whole: the ledger it serves must verify (a short vote set kept made it fail before).
      if (!verifyLedger(book.ledger(), contract).ok) totals.failing++;
      continue;
    }
    // Not whole (an epoch it was not a member of, or the amendment it kept none of): fetched.
    totals.notWhole++;
    // One catch-up from each other node in turn, until the chain is whole.
    for (const peer of nodes) {
      if (peer === n) continue;
      await createLedgerSync(book, async (after) => ledgerPage(bookOf(peer.name), after)).sync();
      if (book.holdsChainTo(certificateDigest(tip))) break;
    }
    const check = verifyLedger(book.ledger(), contract);
    if (book.holdsChainTo(certificateDigest(tip)) && check.ok && check.amendments === 1) totals.wholeAfter++;
  }
}

console.log(
  `${markets} markets of 5, loss ${loss} (seeds ${firstSeed}–${firstSeed + markets - 1}): the amendment passed in ${passed}${unfounded > 0 ? `, ${unfounded} never certified twice` : ""}\n` +
    `nodes ${totals.nodes}, adopted the amended terms ${totals.adopted}: kept the amendment from the votes their machine saw ${totals.kept}, kept none of them ${totals.keptNone}\n` +
    `whole ledgers failing ledger verify ${totals.failing}; chains not whole ${totals.notWhole}, whole and verifying after catch-up ${totals.wholeAfter}`,
);
