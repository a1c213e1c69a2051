import { planDigest } from "../src/machine/epoch-plan.ts";
import type { Signer } from "../src/wire/agent-key.ts";
import type { ContractId } from "../src/wire/ids.ts";
import {
  type AcceptMessage,
  type EpochPlan,
  PROTOCOL_VERSION,
  type ProposeMessage,
  type Unsigned,
} from "../src/wire/messages.ts";
import { signMessage } from "../src/wire/signing.ts";

/** `signer`'s proposal of `plan` for `epoch` in view 0 (docs/protocol.md §9.2), for hand-built epochs. */
export function signedPropose(
  contract: ContractId,
  epoch: number,
  plan: EpochPlan,
  signer: Signer,
): ProposeMessage {
  const m = { v: PROTOCOL_VERSION, kind: "propose", contract, agent: signer.id, epoch, view: 0, plan };
  return signMessage<ProposeMessage>(m as Unsigned<ProposeMessage>, signer);
}

/** `signer`'s accept of `plan` for `epoch` in view 0. */
export function signedAccept(
  contract: ContractId,
  signer: Signer,
  epoch: number,
  plan: EpochPlan,
): AcceptMessage {
  const m = {
    v: PROTOCOL_VERSION,
    kind: "accept",
    contract,
    agent: signer.id,
    epoch,
    view: 0,
    plan: planDigest(epoch, plan),
  };
  return signMessage<AcceptMessage>(m as Unsigned<AcceptMessage>, signer);
}
