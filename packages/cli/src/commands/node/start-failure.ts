import {
  DataDirError,
  FileWriteError,
  HttpLimitsError,
  InvalidApiTokenFileError,
  InvalidKeyFileError,
  ListenError,
  NotOnAllowlistError,
  StoreWriteError,
} from "@walras/node";
import { FailureError, InputError } from "../../cli-error.ts";
import { HTTP_LIMIT_FLAGS, type NodeRuntimeFlags } from "./node-options.ts";

/** Where the node's inputs came from, to name in an error. */
export interface StartSources {
  /** The contract file (`--contract`, or the one `testnet join` wrote). */
  readonly contractFile?: string;
}

/**
 * Why a node did not start, as one line naming the flag or file to change: input errors (exit 2)
 * for what the operator gave, failures (exit 1) for what the machine did (a port someone else
 * holds).
 */
export function startFailure(err: unknown, flags: NodeRuntimeFlags, sources: StartSources = {}): Error {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof ListenError) return listenFailure(err, flags);
  if (err instanceof HttpLimitsError) {
    // Only the headers timeout can be wrong past the flag parsers: it may not exceed the request's.
    const flag = (name: keyof typeof HTTP_LIMIT_FLAGS) => HTTP_LIMIT_FLAGS[name].flag.split(" ")[0];
    return new InputError(
      err.limit === "headersTimeoutMs"
        ? `${flag("headersTimeoutMs")} must not exceed ${flag("requestTimeoutMs")} (${message})`
        : `${flag(err.limit)}: ${message}`,
    );
  }
  if (err instanceof NotOnAllowlistError)
    return new InputError(
      `${err.peerId}: not on the allowlist of ${sources.contractFile ?? "the contract"}; an --agent node must be (or start without --agent to observe)`,
    );
  if (
    err instanceof DataDirError ||
    err instanceof InvalidKeyFileError ||
    err instanceof InvalidApiTokenFileError
  )
    return new InputError(message);
  if (err instanceof FileWriteError)
    return writeFailure(err.message, err.code, err.path === flags.key ? "--key" : "--data-dir");
  // Already one line naming the file; SQLite gives no errno to tell a full disk from a read-only one.
  if (err instanceof StoreWriteError) return new FailureError(`node did not start: ${message}`);
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "EACCES" || code === "ENOENT" || code === "ENOTDIR" || code === "EEXIST")
    return new InputError(`${flags.dataDir}: cannot use as --data-dir: ${message}`);
  if (code !== undefined && WRITE_CODES.has(code)) {
    // A write the node's own files did not wrap: named by the path Node gives, else the data dir.
    const path = (err as NodeJS.ErrnoException).path ?? flags.dataDir;
    return writeFailure(new FileWriteError(path, err).message, code, "--data-dir");
  }
  return new FailureError(`node did not start: ${message}`);
}

/** Errno codes of a write that cannot go through: a full disk or quota, a read-only file system. */
const WRITE_CODES = new Set(["ENOSPC", "EDQUOT", "EFBIG", "EROFS"]);

/**
 * A file in the data dir the node could not write: a full disk is the machine's state (exit 1, and
 * the same dir works once there is room); a read-only or forbidden one is the operator's choice of
 * dir (exit 2).
 */
function writeFailure(message: string, code: string | undefined, flag: "--data-dir" | "--key"): Error {
  if (code === "EROFS" || code === "EACCES" || code === "EPERM")
    return new InputError(`${message}; use another ${flag}`);
  return new FailureError(`node did not start: ${message}`);
}

function listenFailure(err: ListenError, flags: NodeRuntimeFlags): Error {
  if (err.listener === "libp2p") {
    if (err.code === "EADDRINUSE")
      return new FailureError(`${err.address}: address in use; choose another --listen`);
    if (err.code === "EADDRNOTAVAIL")
      return new InputError(`${err.address}: not an address of this machine; choose another --listen`);
    return new FailureError(`${err.address}: cannot listen (${err.code ?? err.message}); check --listen`);
  }
  if (err.code === "EADDRINUSE")
    return new FailureError(`${err.address}: address in use; choose another --http port`);
  if (err.code === "EADDRNOTAVAIL")
    return new InputError(`--http-host ${flags.httpHost}: not an address of this machine`);
  if (err.code === "ENOTFOUND" || err.code === "EAI_AGAIN" || err.code === "EAI_FAIL")
    return new InputError(`--http-host ${flags.httpHost}: host name not found (${err.code})`);
  if (err.code === "EACCES")
    return new InputError(`${err.address}: permission denied; choose another --http port (1024 or above)`);
  return new FailureError(`${err.address}: cannot serve HTTP (${err.code ?? err.message}); check --http`);
}
