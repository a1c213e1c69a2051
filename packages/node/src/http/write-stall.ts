import type { Server } from "node:http";
import type { Socket } from "node:net";

/** What one connection's unsent data looked like when last seen. */
export interface WriteWatch {
  /** When its client last read anything (or when data was first seen waiting). */
  readonly since: number;
  /** Bytes waiting in the node's buffer for the socket then. */
  readonly buffered: number;
}

/**
 * The watch after one look at a connection with `buffered` bytes waiting; null when nothing waits.
 * Only a completed write shrinks the buffer (new writes grow it), so a smaller buffer means the
 * client read something: a slow reader keeps its connection, one that stopped does not. A
 * response handed to the socket in one write (every one but /events) shrinks only once all of it
 * is sent: its client has the limit to take what the kernel's buffers could not hold.
 */
export function watchWrites(previous: WriteWatch | null, buffered: number, now: number): WriteWatch | null {
  if (buffered === 0) return null;
  if (previous === null || buffered < previous.buffered) return { since: now, buffered };
  return { since: previous.since, buffered };
}

/**
 * Drops connections whose client stopped reading: once the kernel's buffers are full, what a
 * response still has to send waits in the node's memory, and nothing else ever frees it (the
 * request timeout bounds receiving, not sending; /events never ends). A connection whose unsent
 * data has not shrunk for `limitMs` is destroyed, which ends its response and frees that data
 * (an /events stream leaves the feed then). `onDropped` is told of each.
 */
export function dropStalledReaders(server: Server, limitMs: number, onDropped: () => void): void {
  const watches = new Map<Socket, WriteWatch | null>();
  server.on("connection", (socket: Socket) => {
    watches.set(socket, null);
    socket.once("close", () => watches.delete(socket));
  });
  const sweep = () => {
    const now = Date.now();
    for (const [socket, previous] of watches) {
      const watch = watchWrites(previous, socket.writableLength, now);
      if (watch !== null && now - watch.since >= limitMs) {
        watches.delete(socket);
        onDropped();
        socket.destroy();
      } else watches.set(socket, watch);
    }
  };
  // A quarter of the limit, at most 1 s, as Node's own timeout checks (http-limits.ts).
  const every = Math.max(10, Math.min(1_000, Math.floor(limitMs / 4)));
  const timer = setInterval(sweep, every);
  timer.unref();
  server.once("close", () => clearInterval(timer));
}
