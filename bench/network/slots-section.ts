import type { BenchOptions, BenchSection } from "../main.ts";
import type { NetworkMode } from "./measure-network.ts";
import { measureSlots, type SlotRun } from "./measure-slots.ts";
import { seconds, starters } from "./section.ts";

/**
 * A market over time on a running network (docs/protocol.md §12): after the first certificate,
 * slot after slot a tenth of the members change their bids, and the time from the new bids until
 * every node holds the certificate of the new market, checked against the reference solver. What
 * the network bench's first certificate (fresh processes, a market from p = 0) does not show: the
 * steady state of warm nodes, where a slot starts from the last slot's prices.
 */
export const slotsBench: BenchSection = {
  name: "slots",
  description: "a market over time on a running network: new bids → certificate, slot after slot",
  run: async (options: BenchOptions) => {
    console.log(HEADER);
    for (const n of options.nodes)
      for (const mode of options.modes) {
        const runs: SlotRun[] = [];
        await measureSlots(
          n,
          mode,
          starters[mode],
          {
            slots: options.slots ?? DEFAULT_SLOTS,
            ...(options.timeoutS ? { timeoutMs: options.timeoutS * 1000 } : {}),
            ...(options.roundMs ? { roundMs: options.roundMs } : {}),
          },
          (run) => {
            runs.push(run);
            console.log(row(run));
          },
        ).catch((err: Error) => console.log(`| ${n} | ${mode} | ${err.message} |`));
        if (runs.length > 0) console.log(summary(n, mode, runs));
      }
  },
};

const DEFAULT_SLOTS = 5;

const HEADER = [
  "| nodes | mode | slot | rebids | epoch | epochs | rounds | bids → cert s | bids → cert s (nodes) | epoch → cert s (nodes) | poll s | price gap | msgs/node | sync req/node | CPU s | CPU ms/accepted msg |",
  "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
].join("\n");

function row(r: SlotRun): string {
  return `| ${r.nodes} | ${r.mode} | ${r.slot} | ${r.rebids} | ${r.epoch} | ${r.epochs} | ${r.rounds} | ${seconds(r.toCertificateMs)} | ${seconds(r.toCertificateHeldMs)} | ${seconds(r.marketMs)} | ${seconds(r.pollMs)} | ${r.priceGap.toExponential(1)} | ${r.messagesPerNode.toFixed(1)} | ${r.syncRequestsPerNode.toFixed(2)} | ${seconds(r.cpuMs)} | ${(r.cpuMs / Math.max(1, r.accepted)).toFixed(3)} |`;
}

/** The median and largest time over the slots, as one line under their rows. */
function summary(n: number, mode: NetworkMode, runs: readonly SlotRun[]): string {
  const times = runs.map((r) => r.toCertificateHeldMs).sort((a, b) => a - b);
  const median = times[(times.length - 1) >> 1] as number;
  return `| ${n} | ${mode} | median of ${runs.length} | | | | | | ${seconds(median)} (max ${seconds(times[times.length - 1] as number)}) | | | | | | | |`;
}
