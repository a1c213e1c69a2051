import type { Signer } from "../src/wire/agent-key.ts";
import type { ContractId } from "../src/wire/ids.ts";
import { type DemandMessage, PROTOCOL_VERSION, type Unsigned } from "../src/wire/messages.ts";
import { signMessage } from "../src/wire/signing.ts";

/**
 * `signer`'s demand of `x` for round `round` of `epoch` at `prices` in a one-resource market
 * (slope −1, footprint [1]), for hand-built rounds.
 */
export function signedDemand(
  contract: ContractId,
  signer: Signer,
  epoch: number,
  round: number,
  prices: readonly number[],
  x: number,
): DemandMessage {
  const m = {
    v: PROTOCOL_VERSION,
    kind: "demand",
    contract,
    agent: signer.id,
    epoch,
    round,
    prices: [...prices],
    x,
    slope: -1,
    footprint: [1],
  };
  return signMessage<DemandMessage>(m as Unsigned<DemandMessage>, signer);
}
