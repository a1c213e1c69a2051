import { type Certificate, certificateSchema, parseWith } from "@walras/protocol";
import type { NodeStatus } from "../node-status.ts";

/** A node's HTTP status API did not answer, or answered something unusable. */
export class StatusClientError extends Error {
  readonly kind: "unreachable" | "not-found" | "invalid";
  constructor(kind: StatusClientError["kind"], message: string) {
    super(message);
    this.name = "StatusClientError";
    this.kind = kind;
  }
}

/** GET <url>/status. */
export async function fetchNodeStatus(url: string, timeoutMs = 3_000): Promise<NodeStatus> {
  const body = await getJson(url, "/status", timeoutMs);
  if (typeof body !== "object" || body === null || typeof (body as { peerId?: unknown }).peerId !== "string")
    throw new StatusClientError("invalid", `${url}/status: not a walras node status`);
  return body as NodeStatus;
}

/** GET <url>/certificate, validated; null when the node has none yet (404). */
export async function fetchNodeCertificate(url: string, timeoutMs = 3_000): Promise<Certificate | null> {
  let body: unknown;
  try {
    body = await getJson(url, "/certificate", timeoutMs);
  } catch (err) {
    if (err instanceof StatusClientError && err.kind === "not-found") return null;
    throw err;
  }
  const parsed = parseWith(certificateSchema, body, `${url}/certificate`);
  if (!parsed.ok) throw new StatusClientError("invalid", parsed.error);
  return parsed.value;
}

async function getJson(base: string, path: string, timeoutMs: number): Promise<unknown> {
  const url = `${base.replace(/\/+$/, "")}${path}`;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
    const reason = cause?.code ?? cause?.message ?? (err as Error).message;
    throw new StatusClientError("unreachable", `${url}: no answer (${reason})`);
  }
  // Not the body: another server's 404 page would fill the screen. A walras node answers every
  // path the CLI asks for except /certificate before the first one, which callers expect.
  if (res.status === 404) throw new StatusClientError("not-found", `${url}: HTTP 404: not a walras node?`);
  if (!res.ok) throw new StatusClientError("invalid", `${url}: HTTP ${res.status}`);
  try {
    return await res.json();
  } catch {
    throw new StatusClientError("invalid", `${url}: response is not JSON`);
  }
}
