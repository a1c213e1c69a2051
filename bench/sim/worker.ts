/**
 * A worker thread of `pnpm sim`: takes the next seed from the shared counter until none is left,
 * and posts each seed's report. Pulling seeds one at a time keeps the threads busy to the end,
 * however unevenly the seeds' costs fall.
 */
import { parentPort, workerData } from "node:worker_threads";
import { type RunOptions, runSeed } from "../../packages/protocol/src/index.ts";
import { reportOf } from "./report.ts";

export interface WorkerTask {
  readonly first: number;
  readonly end: number;
  /** One Int32: how many seeds have been handed out. */
  readonly taken: SharedArrayBuffer;
  readonly options: RunOptions;
}

const task = workerData as WorkerTask;
const taken = new Int32Array(task.taken);
for (
  let seed = task.first + Atomics.add(taken, 0, 1);
  seed < task.end;
  seed = task.first + Atomics.add(taken, 0, 1)
)
  parentPort?.postMessage(reportOf(runSeed(seed, task.options)));
