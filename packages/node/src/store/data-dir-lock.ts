import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, realpathSync, statSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { openToOthers } from "../start/open-to-others.ts";
import { DataDirError } from "./data-dir-error.ts";
import { createLockFile, takeOverLockFile } from "./lock-file.ts";

/**
 * One data dir, one running node. Two nodes on one dir would run as the same peer id over one
 * store and API token, each replaying the other's messages; the lock file stops the second.
 */
export const LOCK_FILE = "walras.lock";

export class DataDirInUseError extends DataDirError {
  readonly pid: number;
  constructor(dir: string, pid: number) {
    super(`${dir}: in use by another walras node (pid ${pid})`);
    this.name = "DataDirInUseError";
    this.pid = pid;
  }
}

export interface DataDirLock {
  /** Removes the lock file if it is still this node's. */
  release(): void;
  /**
   * True when the dir grants group or others any access. A dir the node creates is 0700 (its
   * store holds the agent's private bid); one that was there is left as it is, for the caller
   * to warn about, as for the key file.
   */
  readonly permissionsTooOpen: boolean;
}

/** Who holds a lock: the pid, and (on Linux) that process's boot id and start time. */
interface Holder {
  readonly pid: number;
  readonly started?: string;
}

/** Data dirs locked by this process, by real path: a second node in one process is refused too. */
const heldHere = new Set<string>();

/**
 * Creates `<dir>` if needed and takes its lock, or throws DataDirInUseError naming the holder's
 * pid. A lock left by a node that crashed does not block a restart. It is stale when:
 * - its pid is not alive;
 * - its pid is alive but the process there started at another time than the one that wrote the
 *   lock (Linux, from /proc): the pid was reused, e.g. by another program, or by a new pid
 *   namespace after a container restart;
 * - its pid is this process's own and this process holds no lock on the dir: a container's node
 *   restarted on the same volume is often pid 1 again, the same pid as the one that died.
 * Where /proc is missing (macOS) a reused pid can still look like a holder: the error names the
 * pid, and removing the file with no node running is safe. Two nodes started in the same instant
 * on a dir with a stale lock: one takes it over, the other is refused (takeOverLockFile).
 */
export function lockDataDir(dir: string): DataDirLock {
  try {
    // Owner only: the lock is taken before the store opens, so this is where a new dir is made.
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST")
      throw new DataDirError(`${dir}: not a directory; use another --data-dir`);
    throw err;
  }
  const stats = statSync(dir);
  if (!stats.isDirectory()) throw new DataDirError(`${dir}: not a directory; use another --data-dir`);
  const permissionsTooOpen = openToOthers(stats.mode);
  const key = realpathSync(dir);
  const file = join(dir, LOCK_FILE);
  // The nonce tells this lock from any other, even one this pid wrote (takeOverLockFile compares).
  const mine = { pid: process.pid, ...startedOf(process.pid), nonce: randomBytes(6).toString("hex") };
  const content = `${JSON.stringify(mine)}\n`;
  if (heldHere.has(key)) throw new DataDirInUseError(dir, process.pid);
  // Three times at most: a takeover lost to another node leaves its lock, read on the next pass.
  for (let attempt = 0; attempt < 3; attempt++) {
    if (createLockFile(file, content) || tookOverStale(dir, file, content)) {
      heldHere.add(key);
      return {
        permissionsTooOpen,
        release: () => {
          heldHere.delete(key);
          if (readIfExists(file) === content) unlinkSync(file);
        },
      };
    }
  }
  const holder = parseHolder(readIfExists(file) ?? "");
  throw new DataDirInUseError(dir, holder?.pid ?? 0);
}

/** Takes over the lock in `file` if it is stale, or false to look again; throws if its holder lives. */
function tookOverStale(dir: string, file: string, content: string): boolean {
  const found = readIfExists(file);
  if (found === undefined) return false;
  const holder = parseHolder(found);
  if (holder && holds(holder)) throw new DataDirInUseError(dir, holder.pid);
  return takeOverLockFile(file, found, content);
}

function holds(holder: Holder): boolean {
  // Our own pid, and (checked above) no lock of ours on this dir: a previous incarnation's.
  if (holder.pid === process.pid) return false;
  if (!alive(holder.pid)) return false;
  if (holder.started === undefined) return true;
  const now = startedOf(holder.pid).started;
  return now === undefined || now === holder.started;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, run by another user.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * The boot id and start time (clock ticks since boot, field 22 of /proc/<pid>/stat) of a
 * process: together they name one process, where a pid alone is reused. Empty without /proc.
 */
function startedOf(pid: number): { started?: string } {
  try {
    const boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which is in parentheses and may itself hold spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const start = fields[19];
    return start ? { started: `${boot}:${start}` } : {};
  } catch {
    return {};
  }
}

/** A lock file that does not read as one is no one's: it is treated as stale. */
function parseHolder(text: string): Holder | undefined {
  try {
    const value = JSON.parse(text) as Partial<Holder>;
    if (!Number.isSafeInteger(value.pid) || (value.pid as number) <= 0) return undefined;
    return {
      pid: value.pid as number,
      ...(typeof value.started === "string" ? { started: value.started } : {}),
    };
  } catch {
    return undefined;
  }
}

function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}
