import {
  createSigner,
  type DemandMessage,
  PROTOCOL_VERSION,
  signMessage,
  type Unsigned,
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

describe("signer blame (docs/protocol.md §5)", () => {
  it("a signer's first mismatching demand of a slot is free, a second version is not; a forwarder is never blamed", () => {
    const blame = createSignerBlame();
    const [first, again, second] = [demand(2, 1), demand(2, 1), demand(2, 2)];
    expect(blame.blames(second, "price-mismatch", other)).toBe(false);
    expect(blame.blames(first, "price-mismatch", signer.id)).toBe(false);
    expect(blame.blames(again, "price-mismatch", signer.id)).toBe(false);
    expect(blame.blames(second, "price-mismatch", signer.id)).toBe(true);
    // Another slot's first mismatch is free again.
    expect(blame.blames(demand(3, 2), "price-mismatch", signer.id)).toBe(false);
    expect(blame.blames(second, "equivocation", signer.id)).toBe(true);
    expect(blame.blames(second, "equivocation", other)).toBe(false);
    expect(blame.blames(second, "bad-signature", signer.id)).toBe(false);
  });

  it("remembers a bounded number of slots, the oldest forgotten first", () => {
    const blame = createSignerBlame(2);
    for (const round of [1, 2, 3]) blame.blames(demand(round, 1), "price-mismatch", signer.id);
    expect(blame.blames(demand(1, 9), "price-mismatch", signer.id)).toBe(false);
    expect(blame.blames(demand(3, 9), "price-mismatch", signer.id)).toBe(true);
  });
});
