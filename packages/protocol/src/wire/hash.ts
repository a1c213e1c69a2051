import { createHash } from "node:crypto";

/** Hex SHA-256: the one digest walras uses for contract ids and message-set digests. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
