import { spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DataDirError } from "../src/store/data-dir-error.ts";
import { DataDirInUseError, LOCK_FILE, lockDataDir } from "../src/store/data-dir-lock.ts";
import { takeOverLockFile } from "../src/store/lock-file.ts";
import { withNoRoom } from "./no-room.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "walras-lock-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const lockFile = () => join(dir, "data", LOCK_FILE);
const holder = () => JSON.parse(readFileSync(lockFile(), "utf8")) as { pid: number; started?: string };

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((resolve) => child.once("exit", resolve));
  return child.pid as number;
}

describe("the data dir lock", () => {
  it("creates the dir, writes this process's pid, refuses a second holder in this process, and is gone on release", () => {
    const data = join(dir, "data");
    const lock = lockDataDir(data);
    expect(holder().pid).toBe(process.pid);
    expect(() => lockDataDir(data)).toThrow(new DataDirInUseError(data, process.pid).message);
    lock.release();
    expect(existsSync(lockFile())).toBe(false);
    lockDataDir(data).release();
  });

  it("on a full disk, throws one line naming the lock file and leaves no file behind", async () => {
    const data = join(dir, "data");
    mkdirSync(data);
    // Before: Node's "EFBIG: file too large, write" (ENOSPC on a full disk), naming no file, and a
    // walras.lock.<hex>.tmp left behind.
    expect(await withNoRoom("lock", data)).toEqual({
      name: "FileWriteError",
      message: `${lockFile()}: cannot write (EFBIG: file too large)`,
    });
    expect(readdirSync(data)).toEqual([]);
  });

  it("takes over a lock whose pid is dead, or is this process's own without a lock here (a restarted container's pid 1)", async () => {
    const data = join(dir, "data");
    lockDataDir(data).release();
    writeFileSync(lockFile(), JSON.stringify({ pid: await deadPid() }));
    const a = lockDataDir(data);
    expect(holder().pid).toBe(process.pid);
    a.release();
    writeFileSync(lockFile(), JSON.stringify({ pid: process.pid, started: "an-earlier-boot:1" }));
    lockDataDir(data).release();
  });

  it.runIf(process.platform === "linux")(
    "refuses a live holder; takes over when the pid is alive but another process (another start time)",
    async () => {
      const data = join(dir, "data");
      const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
      try {
        const pid = child.pid as number;
        const boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const started = `${boot}:${stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]}`;
        lockDataDir(data).release();
        writeFileSync(lockFile(), JSON.stringify({ pid, started }));
        expect(() => lockDataDir(data)).toThrow(`${data}: in use by another walras node (pid ${pid})`);
        writeFileSync(lockFile(), JSON.stringify({ pid, started: `${boot}:1` }));
        lockDataDir(data).release();
      } finally {
        child.kill("SIGKILL");
      }
    },
  );

  it("does not remove a lock that another node took over, and names a data dir that is a file", () => {
    const data = join(dir, "data");
    const lock = lockDataDir(data);
    writeFileSync(lockFile(), JSON.stringify({ pid: 1 }));
    lock.release();
    expect(holder().pid).toBe(1);
    writeFileSync(join(dir, "file"), "");
    expect(() => lockDataDir(join(dir, "file"))).toThrow(DataDirError);
    expect(() => lockDataDir(join(dir, "file"))).toThrow(`${join(dir, "file")}: not a directory`);
  });

  it("lets one of two nodes that read the same stale lock take it over: the later one does not remove the earlier one's lock", () => {
    mkdirSync(join(dir, "data"));
    const stale = JSON.stringify({ pid: 1, nonce: "dead" });
    writeFileSync(lockFile(), stale);
    // Both judged the lock stale before either acted on it.
    expect(takeOverLockFile(lockFile(), stale, "first")).toBe(true);
    expect(takeOverLockFile(lockFile(), stale, "second")).toBe(false);
    expect(readFileSync(lockFile(), "utf8")).toBe("first");
    expect(readdirSync(join(dir, "data"))).toEqual([LOCK_FILE]);
    // The other order of events: the first has moved the stale lock aside and not yet made its own.
    unlinkSync(lockFile());
    expect(takeOverLockFile(lockFile(), stale, "second")).toBe(false);
    expect(readdirSync(join(dir, "data"))).toEqual([]);
  });
});
