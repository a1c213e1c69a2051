import type { Server } from "node:http";
import type { Socket } from "node:net";
import { closingJsonResponse } from "./respond.ts";

export interface ClientErrorsInit {
  /** True while a response is being written on `socket` (nothing may be written into it). */
  responding(socket: Socket): boolean;
  /** True for a connection that was already answered and is closing (connection-cap.ts). */
  refused(socket: Socket): boolean;
  /** A request's headers or body did not come in time: a slow-loris, or a stalled client. */
  onTimeout(): void;
}

/**
 * Node answers a malformed or late request itself (400; 431 for headers too large, 413 for chunk
 * extensions too large, 408 past the headers or request timeout) unless someone listens for
 * `clientError`. This listener keeps those answers, with a one-line reason, and counts the
 * timeouts, which are how a slow-loris ends. As Node does, it writes nothing into a response
 * under way on the connection (a pipelined request timing out behind an /events stream), and
 * closes the connection.
 */
export function answerClientErrors(server: Server, init: ClientErrorsInit): void {
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => {
    if (init.refused(socket)) {
      socket.destroy();
      return;
    }
    const timedOut = err.code === "ERR_HTTP_REQUEST_TIMEOUT";
    if (timedOut) init.onTimeout();
    if (err.code !== "ECONNRESET" && socket.writable && !init.responding(socket)) {
      const [code, reason] = timedOut
        ? [408, "request not received in time"]
        : err.code === "HPE_HEADER_OVERFLOW"
          ? [431, "request headers too large"]
          : err.code === "HPE_CHUNK_EXTENSIONS_OVERFLOW"
            ? [413, "chunk extensions too large"]
            : [400, "malformed request"];
      socket.write(closingJsonResponse(code, reason));
    }
    socket.destroy();
  });
}
