import { randomBytes } from "node:crypto";
import { closeSync, fchmodSync, fsyncSync, linkSync, openSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileWriteError } from "./file-write-error.ts";

export interface NewFileOptions {
  /** The file's mode (0600 for a secret), set whatever the umask. Default 0644 less the umask. */
  readonly mode?: number;
  /** Fsyncs the content before it takes the name, and the directory after: a power cut then
   * leaves the whole file or none, never an empty one. */
  readonly durable?: boolean;
}

/**
 * Creates `file` holding `content`, whole or not at all, and never replaces one that exists
 * (false then). The content goes to a temporary sibling first, which is hard-linked into place (a
 * link fails when the name is taken) and removed; a write that fails (a full disk) removes it and
 * leaves no `file`. Writing `file` itself in place left an empty one after a failed write, which
 * then read as a bad file on every later start. Where the file system has no hard links, an
 * exclusive create of `file`, removed again if its write fails. A failure is a FileWriteError
 * naming `file` when it is the system's (a full disk).
 */
export function createNewFile(file: string, content: string, options: NewFileOptions = {}): boolean {
  try {
    return create(file, content, options);
  } catch (err) {
    // Named after the file meant, not the temporary one: that is the name the operator knows.
    throw fileWriteError(file, err);
  }
}

function create(file: string, content: string, options: NewFileOptions): boolean {
  const tmp = `${file}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    write(tmp, content, options);
    try {
      linkSync(tmp, file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EEXIST") return false;
      if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP") throw err;
      return createInPlace(file, content, options);
    }
    if (options.durable) fsyncDirectory(dirname(file));
    return true;
  } finally {
    removeIfThere(tmp);
  }
}

function createInPlace(file: string, content: string, options: NewFileOptions): boolean {
  try {
    write(file, content, options);
  } catch (err) {
    // Ours only once created: an EEXIST is someone else's file.
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    removeIfThere(file);
    throw err;
  }
  if (options.durable) fsyncDirectory(dirname(file));
  return true;
}

/** Writes `content` to a file that must not exist yet, with `mode`, fsynced when durable. */
function write(path: string, content: string, options: NewFileOptions): void {
  const fd = openSync(path, "wx", options.mode ?? 0o666);
  try {
    // open's mode is filtered by the umask; a given mode must hold regardless.
    if (options.mode !== undefined) fchmodSync(fd, options.mode);
    writeFileSync(fd, content);
    if (options.durable) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Fsyncs a directory, so a name just linked or renamed into it survives a power cut (the file's
 * own fsync covers its bytes, not its name). Some file systems refuse to fsync a directory
 * (EINVAL, EISDIR): there it is skipped.
 */
export function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "EINVAL" && code !== "EISDIR" && code !== "EPERM") throw err;
  } finally {
    closeSync(fd);
  }
}

function removeIfThere(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone (linked and removed, or never created).
  }
}
