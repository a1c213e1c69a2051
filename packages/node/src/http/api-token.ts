import { randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Where a node keeps the token its write API asks for: readable by its owner only. */
export function apiTokenFile(dataDir: string): string {
  return join(dataDir, "api.token");
}

/**
 * The token for the node's write endpoints (a new bid, amendments): 32 random bytes, hex, in the
 * data dir with mode 0600, made on first start and kept across restarts. The CLI on the same
 * machine reads the file; nobody else needs it.
 */
export function loadOrCreateApiToken(dataDir: string): string {
  const file = apiTokenFile(dataDir);
  if (existsSync(file)) {
    const token = readFileSync(file, "utf8").trim();
    if (/^[0-9a-f]{64}$/.test(token)) return token;
  }
  const token = randomBytes(32).toString("hex");
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

/** Constant-time check of an `Authorization: Bearer <token>` header. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const given = /^Bearer ([0-9a-f]{64})$/.exec(header ?? "")?.[1];
  if (!given) return false;
  return timingSafeEqual(Buffer.from(given), Buffer.from(token));
}
