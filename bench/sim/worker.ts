/** A worker thread of `pnpm sim`: runs every `stride`-th seed from `first` and posts each report. */
import { parentPort, workerData } from "node:worker_threads";
import { type RunOptions, runSeed } from "../../packages/protocol/src/index.ts";
import { reportOf } from "./report.ts";

export interface WorkerTask {
  readonly first: number;
  readonly end: number;
  readonly stride: number;
  readonly options: RunOptions;
}

const task = workerData as WorkerTask;
for (let seed = task.first; seed < task.end; seed += task.stride) {
  parentPort?.postMessage(reportOf(runSeed(seed, task.options)));
}
