import { describe, expect, it } from "vitest";
import { Amendments } from "../src/machine/amendments.ts";
import { createSigner, type Signer } from "../src/wire/agent-key.ts";
import type { Certificate } from "../src/wire/certificate.ts";
import { type Contract, contractId, contractSchema } from "../src/wire/contract.ts";
import type { Digest } from "../src/wire/ids.ts";
import { type AmendMessage, type ApproveMessage, PROTOCOL_VERSION } from "../src/wire/messages.ts";
import { signMessage } from "../src/wire/signing.ts";
import { amendTerms } from "../src/wire/terms.ts";

/** docs/protocol.md §12: pending amendments stay bounded, and each stays approvable. */
const c: Contract = contractSchema.parse({
  name: "amend",
  resources: [{ id: "cpu", capacity: 6 }],
  fees: { perUnit: 0.5, fixed: 0 },
});
const id = contractId(c);
const keys: Signer[] = [1, 2, 3, 4].map((n) => createSigner(new Uint8Array(32).fill(n)));
const [a, b, d] = keys as [Signer, Signer, Signer, Signer];
/** A tip certificate: only its members matter to the count. */
const tip = { commit: { members: keys.map((k) => k.id).sort() } } as unknown as Certificate;
const quorum = (n: number) => Math.floor(n / 2) + 1;

function amend(by: Signer, epoch: number, capacity: number): AmendMessage {
  const terms = amendTerms(c, id, { capacities: { cpu: capacity } });
  return signMessage<AmendMessage>(
    { v: PROTOCOL_VERSION, kind: "amend", contract: id, agent: by.id, epoch, terms },
    by,
  );
}

function approve(by: Signer, m: AmendMessage): ApproveMessage {
  const amendment = contractId(m.terms) as string as Digest;
  return signMessage<ApproveMessage>(
    { v: PROTOCOL_VERSION, kind: "approve", contract: id, agent: by.id, epoch: m.epoch, amendment },
    by,
  );
}

describe("pending amendments", () => {
  it("keep each proposer's newest only: one member proposing every slot holds one entry", () => {
    const book = new Amendments();
    let last = amend(a, 0, 1);
    for (let epoch = 0; epoch < 500; epoch++) {
      last = amend(a, epoch, 1 + epoch / 100);
      book.onAmend(last);
    }
    book.onAmend(amend(b, 3, 7));
    expect(book.pending(id)).toHaveLength(2);
    expect(book.size).toBe(2);
    expect(
      book
        .pending(id)
        .map((x) => x.proposal.agent)
        .sort(),
    ).toEqual([a.id, b.id].sort());
    expect(book.has(contractId(last.terms))).toBe(true);
    // An older one arriving late (a sync, a replay) does not push out the newer.
    book.onAmend(amend(a, 10, 2.5));
    expect(book.has(contractId(last.terms))).toBe(true);
    expect(book.size).toBe(2);
  });

  it("a kept amendment gathers approvals over any number of slots and passes", () => {
    const book = new Amendments();
    const m = amend(a, 2, 3);
    book.onAmend(m);
    book.onApprove(approve(b, m));
    expect(book.passed(id, tip, quorum)).toBeNull();
    // Other members' amendments come and go meanwhile; a's stands.
    for (let epoch = 3; epoch < 50; epoch++) book.onAmend(amend(b, epoch, 4 + epoch / 100));
    book.onApprove(approve(d, m));
    expect(book.passed(id, tip, quorum)?.id).toBe(contractId(m.terms));
  });

  it("of several passed, the smallest id is taken, in arrival order or not", () => {
    const ms = [amend(a, 1, 2), amend(b, 1, 3), amend(d, 1, 4)];
    const approvers = [a, b, d];
    const smallest = ms.map((m) => contractId(m.terms)).sort()[0];
    for (const order of [ms, [...ms].reverse()]) {
      const book = new Amendments();
      for (const m of order) {
        book.onAmend(m);
        for (const k of approvers) book.onApprove(approve(k, m));
      }
      expect(book.passed(id, tip, quorum)?.id).toBe(smallest);
    }
  });

  it("the terms that took effect stay for the ledger, but no longer count as their proposer's pending one", () => {
    const book = new Amendments();
    const m = amend(a, 1, 2);
    book.onAmend(m);
    const now = contractId(m.terms);
    book.prune(now);
    const next = amendTerms(m.terms, now, { capacities: { cpu: 9 } });
    book.onAmend(signMessage<AmendMessage>({ ...amend(a, 2, 9), terms: next }, a));
    expect(book.has(now)).toBe(true);
    expect(book.pending(now).map((x) => x.id)).toEqual([contractId(next)]);
  });
});
