import { type IncomingMessage, type ServerResponse, STATUS_CODES } from "node:http";

/** One route of the node's HTTP server: it answers the request itself. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

export function sendJson(res: ServerResponse, code: number, body: unknown): void {
  send(res, code, "application/json; charset=utf-8", `${JSON.stringify(body)}\n`);
}

export function send(res: ServerResponse, code: number, contentType: string, body: string): void {
  res.writeHead(code, { "content-type": contentType, "content-length": Buffer.byteLength(body) });
  res.end(res.req.method === "HEAD" ? undefined : body);
}

/**
 * A whole JSON response, as bytes for the socket, that closes the connection: for the answers
 * given beside the HTTP layer (a connection over the cap, a request that timed out), where no
 * ServerResponse exists to write one.
 */
export function closingJsonResponse(code: number, error: string): string {
  const body = `${JSON.stringify({ error })}\n`;
  return [
    `HTTP/1.1 ${code} ${STATUS_CODES[code] ?? ""}`,
    "content-type: application/json; charset=utf-8",
    `content-length: ${Buffer.byteLength(body)}`,
    "connection: close",
    "",
    body,
  ].join("\r\n");
}
