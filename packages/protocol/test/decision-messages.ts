import { foundingPlan, planDigest } from "../src/machine/epoch-plan.ts";
import type { Signer } from "../src/wire/agent-key.ts";
import { type Contract, contractId, contractSchema } from "../src/wire/contract.ts";
import { type AgentId, type ContractId, compareIds } from "../src/wire/ids.ts";
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

/** The round timeout of the hand-built market below. */
export const HAND_BUILT_ROUND_MS = 2_000;
/** The prices hand-built epochs start from. */
export const HAND_BUILT_BASE = [0.125];

/**
 * One resource of capacity 6 and brisk announcements: the market whose epochs tests build by hand,
 * with its `propose` and `accept` signed for it.
 */
export function handBuiltMarket(name: string) {
  const contract: Contract = contractSchema.parse({
    name,
    resources: [{ id: "capacity", capacity: 6 }],
    fees: { perUnit: 0.5, fixed: 0 },
    timeouts: { roundMs: HAND_BUILT_ROUND_MS, announceMs: 200 },
  });
  const cid = contractId(contract);
  return {
    contract,
    cid,
    propose: (epoch: number, plan: EpochPlan, signer: Signer) => signedPropose(cid, epoch, plan, signer),
    accept: (signer: Signer, epoch: number, plan: EpochPlan) => signedAccept(cid, signer, epoch, plan),
  };
}

/** The signers' ids, sorted as a plan lists them. */
export const sortedIds = (...ss: Signer[]): AgentId[] => ss.map((s) => s.id).sort(compareIds);

/** Epoch 0 as a founder decides it alone, before any joiner: `founder` its only member and voter. */
export function soloFoundingPlan(founder: Signer): EpochPlan {
  return foundingPlan(founder.id, [founder.id]);
}
