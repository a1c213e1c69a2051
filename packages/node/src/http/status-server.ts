import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { answerClientErrors } from "./client-errors.ts";
import { capConnections } from "./connection-cap.ts";
import { type HttpLimits, httpLimits, timeoutCheckIntervalMs } from "./http-limits.ts";
import { type HttpRefusals, NO_HTTP_REFUSALS } from "./http-refusals.ts";
import { loopbackHostCheck } from "./loopback-host-check.ts";
import { type ApiRoute, authorized, matchRoute } from "./market-api.ts";
import { requestTarget } from "./request-target.ts";
import { type RouteHandler, send, sendJson } from "./respond.ts";
import { dropStalledReaders } from "./write-stall.ts";

export interface StatusRoutes {
  status(): unknown;
  /** The latest equilibrium certificate, or undefined before the first one (404). */
  certificate(): unknown | undefined;
  /** Prometheus text exposition. */
  metrics(): Promise<string>;
}

export interface StatusServerInit {
  /** 0 picks a free port (see `port` on the result). */
  port: number;
  /**
   * Default 127.0.0.1: status is for operators, not the world. On a loopback address only requests
   * naming this machine in Host are answered (421 otherwise; see loopback-host-check.ts).
   */
  host?: string;
  routes: StatusRoutes;
  /** More GET routes by exact path (the dashboard's page, assets and event stream). */
  pages?: Readonly<Record<string, RouteHandler>>;
  /** The market API (ledger, bids, amendments); its write routes need `token`. */
  api?: { readonly routes: readonly ApiRoute[]; readonly token: string };
  /**
   * Connection cap and timeouts (http-limits.ts; defaults there). The event-stream and body
   * limits are the routes' own: `pages` and `api` are built with them.
   */
  limits?: Partial<HttpLimits>;
  /**
   * Told of each connection refused over the cap, each request that timed out and each client
   * dropped for not reading its response.
   */
  refusals?: HttpRefusals;
}

export interface StatusServer {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Read-only HTTP status: GET /status, /certificate, /metrics, /healthz, and any `pages`. */
export async function startStatusServer(init: StatusServerInit): Promise<StatusServer> {
  let hostAllowed: ((hostHeader: string | undefined) => boolean) | null = null;
  const limits = httpLimits(init.limits);
  const refusals = init.refusals ?? NO_HTTP_REFUSALS;
  /** The latest response on each connection, so that a client error is not written into it. */
  const responses = new WeakMap<Socket, ServerResponse>();
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: timeoutCheckIntervalMs(limits),
    },
    (req, res) => serve(req, res),
  );
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  const cap = capConnections(server, limits.maxConnections, () => refusals.refused("connections"));
  answerClientErrors(server, {
    responding: (socket) => {
      const res = responses.get(socket);
      return res?.headersSent === true && !res.writableEnded;
    },
    refused: cap.refused,
    onTimeout: () => refusals.refused("timeout"),
  });
  dropStalledReaders(server, limits.writeStallTimeoutMs, () => refusals.refused("stalled_reader"));
  const serve = (req: IncomingMessage, res: ServerResponse): void => {
    // Answered 503 when it connected, and closing: what it sent after is not served.
    if (cap.refused(req.socket)) return;
    responses.set(req.socket, res);
    // Node ends a connection marked so once the response is flushed. Kept open, it would go on
    // reading a body no route read (one answered 401, 404, 405 or 413 before it was all in) up to
    // the request timeout, and then answer 408 as well: one request, two answers, two refusals.
    if (announcesBody(req)) res.setHeader("connection", "close");
    if (hostAllowed && !hostAllowed(req.headers.host)) {
      sendJson(res, 421, { error: "this node answers only to 127.0.0.1, localhost and [::1]" });
      return;
    }
    route(init, req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: err instanceof Error ? err.message : String(err) });
      else res.destroy();
    });
  };
  const host = init.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(init.port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  hostAllowed = loopbackHostCheck(host, port);
  const urlHost = host.includes(":") ? `[${host}]` : host;
  return {
    port,
    url: `http://${urlHost}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive sockets would otherwise hold close() open until they time out.
        server.closeAllConnections();
      }),
  };
}

async function route(init: StatusServerInit, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const routes = init.routes;
  const target = requestTarget(req.url);
  if (target === null) return sendJson(res, 400, { error: "bad request target" });
  const path = target.pathname;
  const api = init.api ? matchRoute(init.api.routes, req.method ?? "GET", path) : null;
  if (api && "allowed" in api) {
    res.setHeader("Allow", api.allowed.join(", "));
    return sendJson(res, 405, { error: `${req.method} not allowed on ${path}` });
  }
  if (api && init.api) {
    if (api.route.auth && !authorized(req, res, init.api.token)) return;
    return api.route.handle(req, res, api.match);
  }
  const page = init.pages?.[path];
  const handlers: Record<string, () => Promise<void>> = {
    ...(page ? { [path]: async () => page(req, res) } : {}),
    "/status": async () => sendJson(res, 200, routes.status()),
    "/certificate": async () => {
      const certificate = routes.certificate();
      if (certificate === undefined) sendJson(res, 404, { error: "no certificate yet" });
      else sendJson(res, 200, certificate);
    },
    "/metrics": async () => send(res, 200, PROMETHEUS_CONTENT_TYPE, await routes.metrics()),
    "/healthz": async () => sendJson(res, 200, { ok: true }),
  };
  const handler = handlers[path];
  if (handler === undefined) return sendJson(res, 404, { error: `no route ${path}` });
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("Allow", "GET, HEAD");
    return sendJson(res, 405, { error: `${req.method} not allowed on ${path}` });
  }
  await handler();
}

/** A request that says a body follows: a Content-Length other than 0, or a Transfer-Encoding. */
function announcesBody(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  return (length !== undefined && length !== "0") || req.headers["transfer-encoding"] !== undefined;
}
