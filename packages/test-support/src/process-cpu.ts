import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

let ticksPerSecond: number | undefined;

/** CPU time a process has used so far, split as the kernel counts it. */
export interface ProcessCpuTimes {
  readonly userMs: number;
  readonly systemMs: number;
}

/**
 * CPU time (user and system, ms) a live process has used so far, from /proc/<pid>/stat (Linux).
 * Read it before the process exits: afterwards the figure is gone. Resolution is one clock tick
 * (10 ms at the usual CLK_TCK of 100).
 */
export function processCpuTimes(pid: number): ProcessCpuTimes {
  ticksPerSecond ??= Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may hold spaces; count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ms = (ticks: string | undefined) => (Number(ticks) / (ticksPerSecond as number)) * 1000;
  return { userMs: ms(fields[11]), systemMs: ms(fields[12]) };
}

/** User plus system CPU time (ms) of a live process: {@link processCpuTimes} summed. */
export function processCpuMs(pid: number): number {
  const { userMs, systemMs } = processCpuTimes(pid);
  return userMs + systemMs;
}
