import type { CommitBody } from "../../wire/certificate.ts";
import type { SlotOutcome } from "./slot-record.ts";

/**
 * A live network's answer for one slot, read from the slot's certificate, in the form the engine
 * gives (run-slots.ts): a devnet run then measures its slots with the same measureSlot and draws
 * them with the same plots. The certificate has no start prices (they are the previous slot's
 * certified prices under a warm start) and counts rounds from the start of the epoch, so a caller
 * whose slot did not open at round 0 passes the round it opened at.
 */
export function certifiedSlotOutcome(
  commit: CommitBody,
  startPrices: readonly number[],
  firstRound = 0,
): SlotOutcome {
  if (commit.round < firstRound)
    throw new RangeError(`commit.round ${commit.round} is before the slot's first round ${firstRound}`);
  return {
    startPrices: [...startPrices],
    prices: [...commit.prices],
    allocations: commit.allocations.map((a) => ({ agent: a.agent, x: a.x })),
    rounds: commit.round - firstRound + 1,
    status: commit.approximate
      ? "approximate"
      : commit.prices.every((p) => p === 0)
        ? "not-binding"
        : "converged",
  };
}
