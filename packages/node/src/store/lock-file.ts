import { randomBytes } from "node:crypto";
import { readFileSync, renameSync, unlinkSync } from "node:fs";
import { createNewFile } from "./new-file.ts";

/**
 * Creates the lock file whole or not at all (store/new-file.ts: a temporary name hard-linked into
 * place, which fails when the file exists), so no one ever reads a half-written lock; false when
 * a lock is there. A write that fails (a full disk) leaves neither the lock nor its temporary file
 * and throws a FileWriteError naming the lock file.
 */
export function createLockFile(file: string, content: string): boolean {
  // 0600 like every file in the data dir: nothing in it is for other users.
  return createNewFile(file, content, { mode: 0o600 });
}

/**
 * Replaces the lock file this node read as `stale` by its own, or returns false when another node
 * got there first. Removing the stale file and then creating would let two nodes that read the
 * same stale lock both win: the later one's remove takes away the earlier one's fresh lock. So
 * the file is renamed aside to a name of its own, which only one node can do to one file, and
 * what was moved is checked: if it is not the stale lock read (another node's fresh lock came in
 * between), it is linked back. A third node creating its lock in the instant between that rename
 * and the link back would still share the dir with the node whose lock was moved; that takes
 * three nodes starting together on a dir with a stale lock. Lock contents carry a nonce, so two
 * locks never read alike.
 */
export function takeOverLockFile(file: string, stale: string, content: string): boolean {
  const aside = `${file}.${randomBytes(6).toString("hex")}.stale`;
  try {
    renameSync(file, aside);
  } catch (err) {
    // Gone already: another node is taking it over; its lock is the one to look at next.
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
  try {
    const moved = readFileSync(aside, "utf8");
    if (moved !== stale) {
      // Put back as any lock is created (hard link, or an exclusive create where there are none);
      // false when a third node's lock took the place meanwhile.
      createLockFile(file, moved);
      return false;
    }
  } finally {
    unlinkSync(aside);
  }
  return createLockFile(file, content);
}
