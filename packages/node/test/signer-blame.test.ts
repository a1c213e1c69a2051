import {
  createSigner,
  type DemandMessage,
  PROTOCOL_VERSION,
  signMessage,
  slotOf,
  type Unsigned,
  type WireMessage,
} from "@walras/protocol";
import { describe, expect, it } from "vitest";
import { createSignerBlame } from "../src/inbound/signer-blame.ts";

const signer = createSigner(new Uint8Array(32).fill(7));
const other = "12D3KooWother";

function demand(round: number, x: number, prices = [0.5]): DemandMessage {
  return signMessage<DemandMessage>(
    {
      v: PROTOCOL_VERSION,
      kind: "demand",
      contract: "c".repeat(64),
      agent: signer.id,
      epoch: 1,
      round,
      prices,
      x,
      slope: -1,
      footprint: [1],
    } as unknown as Unsigned<DemandMessage>,
    signer,
  );
}

const MISMATCH = { reason: "price-mismatch" } as const;

function equivocation(first: WireMessage, second: WireMessage) {
  return {
    reason: "equivocation",
    evidence: { agent: signer.id, slot: slotOf(second), first, second },
  } as const;
}

describe("signer blame (docs/protocol.md §5)", () => {
  it("a signer's first mismatching demand of a slot is free, a second version is not; a forwarder is never blamed", () => {
    const blame = createSignerBlame();
    const [first, again, second] = [demand(2, 1), demand(2, 1), demand(2, 2)];
    expect(blame.blames(second, MISMATCH, other)).toBe(false);
    expect(blame.blames(first, MISMATCH, signer.id)).toBe(false);
    expect(blame.blames(again, MISMATCH, signer.id)).toBe(false);
    expect(blame.blames(second, MISMATCH, signer.id)).toBe(true);
    // Another slot's first mismatch is free again.
    expect(blame.blames(demand(3, 2), MISMATCH, signer.id)).toBe(false);
    expect(blame.blames(second, equivocation(first, second), signer.id)).toBe(true);
    expect(blame.blames(second, equivocation(first, second), other)).toBe(false);
    expect(blame.blames(second, { reason: "bad-signature" }, signer.id)).toBe(false);
  });

  it("an equivocation honesty can sign (a restart re-signing at other prices, a commit) is free once per slot, as a mismatch is", () => {
    const blame = createSignerBlame();
    // A restarted node that lost its stored demand re-signs the slot at other prices.
    const [held, resigned, third] = [demand(2, 1, [0.5]), demand(2, 2, [0.6]), demand(2, 3, [0.7])];
    expect(blame.blames(resigned, equivocation(held, resigned), signer.id)).toBe(false);
    expect(blame.blames(resigned, equivocation(held, resigned), signer.id)).toBe(false);
    expect(blame.blames(third, equivocation(held, third), signer.id)).toBe(true);
    // A re-signed commit (its body follows the demand set it closed on) is never a proof.
    const commit = (x: number) => ({ ...demand(4, x), kind: "commit" }) as unknown as WireMessage;
    expect(blame.blames(commit(2), equivocation(commit(1), commit(2)), signer.id)).toBe(false);
    expect(blame.blames(commit(3), equivocation(commit(1), commit(3)), signer.id)).toBe(true);
    // Two demands of a slot at the same prices are a proof: blamed at once.
    const [a, b] = [demand(5, 1), demand(5, 2)];
    expect(blame.blames(b, equivocation(a, b), signer.id)).toBe(true);
  });

  it("remembers a bounded number of slots, the oldest forgotten first", () => {
    const blame = createSignerBlame(2);
    for (const round of [1, 2, 3]) blame.blames(demand(round, 1), MISMATCH, signer.id);
    expect(blame.blames(demand(1, 9), MISMATCH, signer.id)).toBe(false);
    expect(blame.blames(demand(3, 9), MISMATCH, signer.id)).toBe(true);
  });
});
