import type { IncomingMessage, ServerResponse } from "node:http";

/** One route of the node's HTTP server: it answers the request itself. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

export function sendJson(res: ServerResponse, code: number, body: unknown): void {
  send(res, code, "application/json; charset=utf-8", `${JSON.stringify(body)}\n`);
}

export function send(res: ServerResponse, code: number, contentType: string, body: string): void {
  res.writeHead(code, { "content-type": contentType, "content-length": Buffer.byteLength(body) });
  res.end(res.req.method === "HEAD" ? undefined : body);
}
