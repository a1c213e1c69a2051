/**
 * A data-dir file the node could not write: the disk or quota is full, the file system is
 * read-only. Node's own message ("ENOSPC: no space left on device, write") names no file when the
 * write went through a descriptor; this one does, in one line.
 */
export class FileWriteError extends Error {
  readonly path: string;
  /** The errno code (ENOSPC, EDQUOT, EROFS, EFBIG, EACCES...), when there was one. */
  readonly code: string | undefined;
  constructor(path: string, cause: unknown) {
    super(`${path}: cannot write (${errnoReason(cause)})`, { cause });
    this.name = "FileWriteError";
    this.path = path;
    this.code = (cause as NodeJS.ErrnoException | undefined)?.code;
  }
}

/** "ENOSPC: no space left on device" from Node's "ENOSPC: no space left on device, write '/x'". */
function errnoReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return /^(E[A-Z0-9]+: [^,]+)/.exec(message)?.[1] ?? message;
}

/** `err` as a FileWriteError naming `path` when it is a system error (it has a code); else as is. */
export function fileWriteError(path: string, err: unknown): unknown {
  if (err instanceof FileWriteError) return err;
  return typeof (err as NodeJS.ErrnoException | undefined)?.code === "string"
    ? new FileWriteError(path, err)
    : err;
}
