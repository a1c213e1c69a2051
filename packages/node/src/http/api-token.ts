import { randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { openToOthers } from "../start/open-to-others.ts";
import { createNewFile } from "../store/new-file.ts";

/** Where a node keeps the token its write API asks for: readable by its owner only. */
export function apiTokenFile(dataDir: string): string {
  return join(dataDir, "api.token");
}

export interface LoadedApiToken {
  readonly token: string;
  readonly file: string;
  /**
   * True when the file's mode grants group or other any access (wider than 0600). Not fatal, as
   * for the key file (identity/key-file.ts): the caller warns naming the file.
   */
  readonly permissionsTooOpen: boolean;
}

/** A token file that exists but does not hold a token: the node refuses to start on it. */
export class InvalidApiTokenFileError extends Error {
  readonly path: string;
  constructor(path: string, reason: string) {
    super(`${path}: not a walras API token file (${reason})`);
    this.name = "InvalidApiTokenFileError";
    this.path = path;
  }
}

/**
 * The token for the node's write endpoints (a new bid, amendments): 32 random bytes, hex, in the
 * data dir with mode 0600, made on first start and kept across restarts. The CLI on the same
 * machine reads the file; nobody else needs it. A file that is there but holds no token is an
 * operator's (a provisioned token, mistyped): it is refused, never replaced, since replacing it
 * would lock out whoever holds the token the operator meant.
 */
export function loadOrCreateApiToken(dataDir: string): LoadedApiToken {
  const file = apiTokenFile(dataDir);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EISDIR") throw new InvalidApiTokenFileError(file, "it is a directory");
    if (code !== "ENOENT") throw new InvalidApiTokenFileError(file, `cannot read it: ${code ?? err}`);
    const token = randomBytes(32).toString("hex");
    // Whole or not at all, and fsynced: an empty file left by a full disk or a power cut would
    // stop every later start. A file that appeared meanwhile is not replaced: it is read instead.
    if (createNewFile(file, `${token}\n`, { mode: 0o600, durable: true }))
      return { token, file, permissionsTooOpen: false };
    text = readFileSync(file, "utf8");
  }
  const token = text.trim();
  if (!/^[0-9a-f]{64}$/.test(token)) {
    // The reason, never the content: the file may hold most of a secret.
    const reason =
      token.length === 0
        ? "it is empty"
        : /^[0-9a-f]*$/.test(token)
          ? `${token.length} hex digits`
          : `${token.length} characters, not all lowercase hex digits`;
    throw new InvalidApiTokenFileError(file, `${reason}; expected 64 lowercase hex digits`);
  }
  return { token, file, permissionsTooOpen: openToOthers(statSync(file).mode) };
}

/** Constant-time check of an `Authorization: Bearer <token>` header. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const given = /^Bearer ([0-9a-f]{64})$/.exec(header ?? "")?.[1];
  if (!given) return false;
  return timingSafeEqual(Buffer.from(given), Buffer.from(token));
}
