import { describe, expect, it } from "vitest";
import { createSignatureMemo } from "../src/sim/signature-memo.ts";
import { createSigner } from "../src/wire/agent-key.ts";
import { asContractId } from "../src/wire/ids.ts";
import type { JoinMessage, Unsigned } from "../src/wire/messages.ts";
import { PROTOCOL_VERSION } from "../src/wire/messages.ts";
import { signMessage } from "../src/wire/signing.ts";

const join = (agent: string, seq: number): Unsigned<JoinMessage> =>
  ({
    v: PROTOCOL_VERSION,
    kind: "join",
    contract: asContractId("ab".repeat(32)),
    agent,
    epoch: 0,
    seq,
  }) as unknown as Unsigned<JoinMessage>;

describe("the simulator's signature memo", () => {
  it("takes a wrapped signer's own signature over the same bytes, and verifies anything else", () => {
    const memo = createSignatureMemo();
    const inner = createSigner(new Uint8Array(32).fill(7));
    const signer = memo.signer(inner);
    const message = signMessage(join(signer.id, 1), signer);
    expect(memo.verify(message)).toBe(true);
    expect(memo.stats()).toEqual({ verified: 0, remembered: 1 });
    // The same signature on other bytes: not what was signed, so checked, and false.
    expect(memo.verify({ ...message, seq: 2 })).toBe(false);
    expect(memo.stats().verified).toBe(1);
    // A signature the memo never saw made: verified for real.
    const outside = createSigner(new Uint8Array(32).fill(9));
    expect(memo.verify(signMessage(join(outside.id, 1), outside))).toBe(true);
    expect(memo.stats().verified).toBe(2);
    // Claimed by another agent: the key is (agent, signature), so checked, and false.
    expect(memo.verify({ ...message, agent: outside.id })).toBe(false);
    expect(memo.stats().verified).toBe(3);
  });
});
