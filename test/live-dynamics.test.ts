import { type Contract, type LiveDynamicsSlot, shockSchedule, solveReference } from "@walras/protocol";
import { runCli } from "@walras/test-support";
import { describe, expect, it } from "vitest";

/**
 * `walras experiment dynamics --live` on real node processes over real sockets: a fee shock at
 * slot 2 of 5, on 4 nodes. Every certified slot is checked here, against this test's own reference
 * solver run on the schedule's bids and the fee the slot was certified under, not against the
 * command's measurement of itself.
 */
describe("walras experiment dynamics --live (real node processes)", () => {
  it("certifies every slot of a fee shock at its reference equilibrium, the shock's slot under the amended fee", async () => {
    const args = ["--shock", "fee", "--nodes", "4", "--slots", "5", "--at", "2", "--seed", "3"];
    const run = await runCli(["experiment", "dynamics", "--live", ...args, "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as {
      options: Parameters<typeof shockSchedule>[0] & { shockTau: number; tau: number };
      scheduleEpochs: number[];
      slots: LiveDynamicsSlot[];
    };
    // One boundary per schedule slot, each ended by a certificate of a later epoch.
    expect(result.scheduleEpochs).toHaveLength(5);
    expect(result.scheduleEpochs).toEqual([...result.scheduleEpochs].sort((a, b) => a - b));
    expect(new Set(result.scheduleEpochs).size).toBe(5);
    const schedule = shockSchedule(result.options);
    const epochs = result.slots.map((s) => s.epoch);
    for (const e of result.scheduleEpochs) expect(epochs).toContain(e);

    let exact = 0;
    for (const slot of result.slots) {
      // The schedule slot whose bids this certificate ran: the first boundary it does not pass.
      const k = result.scheduleEpochs.findIndex((e) => slot.epoch <= e);
      const market = schedule[k];
      if (!market) throw new Error(`epoch ${slot.epoch} is past the last schedule slot`);
      // The fee the ledger says the slot was certified under: the original one up to the boundary,
      // the amended one from the shock's slot on.
      const [, before, shock] = result.scheduleEpochs as [number, number, number];
      if (slot.epoch <= before) expect(slot.terms.perUnit).toBe(result.options.tau);
      if (slot.epoch >= shock) expect(slot.terms.perUnit).toBe(result.options.shockTau);
      const contract: Contract = {
        ...market.scenario.contract,
        fees: { ...market.scenario.contract.fees, perUnit: slot.terms.perUnit },
      };
      const reference = solveReference({ contract, agents: market.scenario.agents });
      expect(slot.agents).toBe(4);
      if (reference.status === "approximate") continue;
      exact++;
      expect(
        Math.abs((slot.prices[0] as number) - (reference.prices[0] as number)),
        `epoch ${slot.epoch}`,
      ).toBeLessThan(1e-6);
    }
    expect(exact).toBeGreaterThanOrEqual(5);
    // The shock moved the price: the reference under the old fee is not what the shock's slot certified.
    const at = result.slots.find((s) => s.epoch === result.scheduleEpochs[2]) as LiveDynamicsSlot;
    const old = solveReference(schedule[1]?.scenario as Parameters<typeof solveReference>[0]);
    expect(Math.abs((at.prices[0] as number) - (old.prices[0] as number))).toBeGreaterThan(0.1);
    // Four processes and five 3 s periods: room for a loaded 2-core machine.
  }, 240_000);
});
