import { createPrng } from "../random/prng.ts";
import { createSigner } from "../wire/agent-key.ts";
import { type Contract, contractId } from "../wire/contract.ts";
import { type AliveMessage, PROTOCOL_VERSION, type WireMessage } from "../wire/messages.ts";
import { signMessage } from "../wire/signing.ts";

/**
 * A stranger's `alive` of a made-up epoch, signed by a throwaway key drawn from `key` (not from the
 * network's stream, so that the rest of the run keeps its draws): the message that suspends a
 * founder's founding (docs/protocol.md §9.3, the founding gate).
 */
export function strangerAlive(contract: Contract, epoch: number, key: number): WireMessage {
  const prng = createPrng(key);
  const signer = createSigner(Uint8Array.from({ length: 32 }, () => Math.floor(prng() * 256)));
  return signMessage<AliveMessage>(
    { v: PROTOCOL_VERSION, kind: "alive", contract: contractId(contract), agent: signer.id, epoch, seq: 1 },
    signer,
  );
}
