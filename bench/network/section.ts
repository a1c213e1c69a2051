import type { BenchOptions, BenchSection } from "../main.ts";
import { startInProcessCluster } from "./in-process-cluster.ts";
import { measureNetwork, type NetworkMode, type NetworkRun } from "./measure-network.ts";
import { startProcessCluster } from "./process-cluster.ts";

export type { NetworkMode } from "./measure-network.ts";

/**
 * Real libp2p nodes on loopback, newton, a first epoch of all n nodes (minMembers = n): times from
 * start to every node up, up to mesh, mesh to the first n-member certificate every node has held
 * (its epoch shows how many epochs it took); messages and bytes per node per round run (all
 * epochs); catch-up sync requests per node per round run, the shares of them that failed and
 * timed out, how long an answered request took on average, the messages their answers carried,
 * and the same requests by purpose (what the machine asked for: a storm's timeouts by kind); and
 * CPU per accepted message — all node processes' CPU from "up" to the certificate divided by the
 * messages all nodes accepted meanwhile. Everything on one machine, so the nodes share its cores:
 * wall times are an upper bound for a real deployment, and are disturbed by anything else the
 * machine runs; CPU and counts are not.
 */
export const networkBench: BenchSection = {
  name: "network",
  description: "real libp2p nodes on loopback, newton: start → up → mesh → certificate, CPU per message",
  run: async (options: BenchOptions) => {
    if (options.roundMs !== undefined) console.log(`contract round timeout: ${options.roundMs} ms\n`);
    console.log(HEADER);
    for (const n of options.nodes)
      for (const mode of options.modes) {
        const run = await measureNetwork(
          n,
          mode,
          starters[mode],
          options.timeoutS && options.timeoutS * 1000,
          n,
          options.roundMs,
        ).catch((err: Error) => {
          console.log(`| ${n} | ${mode} | ${err.message} |`);
          return null;
        });
        if (run) console.log(row(run));
      }
  },
};

/** How each mode starts its nodes (the slots section runs on the same clusters). */
export const starters = {
  "in-process": startInProcessCluster,
  processes: startProcessCluster,
} as const satisfies Record<NetworkMode, unknown>;

const percent = (share: number) => `${(share * 100).toFixed(0)}%`;

/** `demand:all 0.91 (20%, 15%), …`: what the catch-up requests were for, the shares failed and timed out. */
const purposes = (byPurpose: NetworkRun["syncByPurpose"]) =>
  byPurpose
    .map(
      (p) =>
        `${p.purpose} ${p.perNodePerRound.toFixed(2)} (${percent(p.failedShare)}, ${percent(p.timedOutShare)})`,
    )
    .join(", ") || "—";

/** Milliseconds as seconds to a tenth, as every time in these tables. */
export const seconds = (ms: number) => (ms / 1000).toFixed(1);

const HEADER = [
  "| nodes | mode | epoch | rounds | rounds run | start→up s | up→mesh s | mesh→cert s | up→cert s | up→epoch s (nodes) | up→cert s (nodes) | msgs/node/round | bytes/node/round | sync req/node/round | sync failed (timed out) | sync abandoned | sync answer s (mean) | sync msgs/node/round | CPU s | accepted | CPU ms/accepted msg | sync req/node/round by purpose (failed, timed out) |",
  "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
].join("\n");

/** One table row, printed as soon as its run ends: the whole matrix takes a while. */
function row(r: NetworkRun): string {
  return `| ${r.nodes} | ${r.mode} | ${r.epoch} | ${r.rounds} | ${r.roundsRun.toFixed(1)} | ${seconds(r.startToUpMs)} | ${seconds(r.upToMeshMs)} | ${seconds(r.meshToCertificateMs)} | ${seconds(r.upToCertificateMs)} | ${seconds(r.upToEpochStartMs)} | ${seconds(r.upToCertificateHeldMs)} | ${r.messagesPerNodePerRound.toFixed(1)} | ${Math.round(r.bytesPerNodePerRound)} | ${r.syncRequestsPerNodePerRound.toFixed(2)} | ${percent(r.syncFailedShare)} (${percent(r.syncTimedOutShare)}) | ${r.syncAbandoned} | ${Number.isNaN(r.syncAnswerMeanSeconds) ? "—" : r.syncAnswerMeanSeconds.toFixed(2)} | ${r.syncMessagesPerNodePerRound.toFixed(1)} | ${seconds(r.cpuMs)} | ${r.accepted} | ${(r.cpuMs / Math.max(1, r.accepted)).toFixed(3)} | ${purposes(r.syncByPurpose)} |`;
}
