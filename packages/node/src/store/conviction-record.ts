import {
  type ContractId,
  type DemandMessage,
  decodeMessage,
  type EquivocationProof,
  encodeMessage,
  MAX_CONVICTED,
  proofProblem,
  verifyMessage,
} from "@walras/protocol";
import type { Logger } from "pino";
import type { Store } from "./store.ts";

/**
 * The proofs this node convicted agents on, kept across restarts (docs/protocol.md §10). The store
 * holds one message per slot, the version this node accepted, so a restarted node cannot derive a
 * proof again from it: without this record it forgot whom it convicted, could admit the agent
 * again as a joiner, and no longer carried the proof in the plan that drops it.
 *
 * Bounded as the machine's own list is: one proof per agent, the newest MAX_CONVICTED agents (two
 * demands each, a few hundred bytes). A conviction takes two demands an agent really signed for
 * one round at the same prices, so only keys that did that can fill it, and the oldest go first
 * (under an open allowlist keys are free: 1,000 throwaway ones push the real convictions out).
 */
export function recordConviction(store: Store, [first, second]: EquivocationProof): void {
  store.putConviction(
    { agent: first.agent, first: encodeMessage(first), second: encodeMessage(second) },
    MAX_CONVICTED,
  );
}

/**
 * The recorded proofs, oldest first, each judged again as a plan's proof is (`proofProblem`): one
 * that no longer decodes or holds (a damaged store, a store of another contract) is dropped with a
 * warning naming the store file and the agent, and the node starts without it.
 */
export function loadConvictions(store: Store, contract: ContractId, log: Logger): EquivocationProof[] {
  const proofs: EquivocationProof[] = [];
  for (const row of store.convictions()) {
    const [first, second] = [decodeMessage(row.first), decodeMessage(row.second)];
    const proof =
      first.ok && second.ok ? ([first.message, second.message] as [DemandMessage, DemandMessage]) : null;
    const problem = proof
      ? proofProblem(proof, { contractId: contract, verify: verifyMessage })
      : "a demand does not decode";
    if (proof && problem === null) proofs.push(proof);
    else log.warn({ store: store.path, agent: row.agent, problem }, "stored equivocation proof dropped");
  }
  return proofs;
}
