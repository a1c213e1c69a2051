import type { Server } from "node:http";
import type { Socket } from "node:net";
import { closingJsonResponse } from "./respond.ts";

/** How long a refused connection is kept for its client to read the 503 and hang up. */
const LINGER_MS = 1_000;

export interface ConnectionCap {
  /** True for a connection that was answered 503 when it opened: its requests get nothing more. */
  refused(socket: Socket): boolean;
}

/**
 * At most `max` connections open at once. One more is answered 503 with a one-line reason the
 * moment it is accepted, then closed once its client has read that (or after LINGER_MS). Node's
 * own `server.maxConnections` closes such a connection with no answer at all, which a client
 * (curl, a dashboard, Prometheus) reports as a reset, not as a busy node.
 */
export function capConnections(server: Server, max: number, onRefused: () => void): ConnectionCap {
  let open = 0;
  const refused = new WeakSet<Socket>();
  // Before the HTTP layer's own listener: the 503 goes out before anything the client sent is
  // parsed. The HTTP layer still parses it; the server's request listener then ignores it.
  server.prependListener("connection", (socket: Socket) => {
    if (open < max) {
      open++;
      socket.once("close", () => open--);
      return;
    }
    refused.add(socket);
    onRefused();
    socket.end(
      closingJsonResponse(503, `this node has ${max} HTTP connections open already; try again shortly`),
    );
    const linger = setTimeout(() => socket.destroy(), LINGER_MS);
    linger.unref();
    socket.once("close", () => clearTimeout(linger));
  });
  return { refused: (socket) => refused.has(socket) };
}
