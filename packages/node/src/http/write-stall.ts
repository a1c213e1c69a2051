import type { Server } from "node:http";
import type { Socket } from "node:net";
import { checkIntervalMs } from "./http-limits.ts";

/** How far one connection's data has got to its client, as one look sees it. */
export interface WriteProgress {
  /** Bytes waiting in the node for the socket (`writableLength`). */
  readonly buffered: number;
  /**
   * Bytes handed to the kernel in completed writes: `bytesWritten` − `writableLength`, a total
   * that only grows.
   */
  readonly sent: number;
  /** Bytes of the write under way the kernel has not taken yet (libuv's write queue). */
  readonly queued: number;
}

/** What one connection's data looked like when last seen, and since when the kernel took none. */
export interface WriteWatch {
  /** When the kernel last took any of it (or when data was first seen waiting). */
  readonly since: number;
  readonly sent: number;
  readonly queued: number;
}

/**
 * The watch after one look at a connection; null when nothing waits. Progress is what the kernel
 * took, which it does only as the client reads: more sent in completed writes, or, within one
 * write, less of it queued (a response handed over in one write completes only once all of it is
 * sent). The buffer's size is no measure: a client that reads steadily but slower than the node
 * writes sees it grow between any two looks, and was dropped as a stalled reader.
 */
export function watchWrites(
  previous: WriteWatch | null,
  progress: WriteProgress,
  now: number,
): WriteWatch | null {
  const { buffered, sent, queued } = progress;
  if (buffered === 0) return null;
  const moved =
    previous === null || sent > previous.sent || (sent === previous.sent && queued < previous.queued);
  return { since: moved ? now : previous.since, sent, queued };
}

/** One look at `socket`. */
export function writeProgress(socket: Socket): WriteProgress {
  // Node's own socket timeout reads the same field to see a pending write move (lib/net.js); it
  // is not in the typings.
  const handle = (socket as unknown as { _handle?: { writeQueueSize?: number } | null })._handle;
  return {
    buffered: socket.writableLength,
    sent: socket.bytesWritten - socket.writableLength,
    queued: handle?.writeQueueSize ?? 0,
  };
}

/**
 * Drops connections whose client stopped reading: once the kernel's buffers are full, what a
 * response still has to send waits in the node's memory, and nothing else ever frees it (the
 * request timeout bounds receiving, not sending; /events never ends). A connection with data
 * waiting of which the kernel has taken nothing for `limitMs` is destroyed, which ends its
 * response and frees that data (an /events stream leaves the feed then); a slow reader keeps its
 * connection. `onDropped` is told of each.
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
      const watch = watchWrites(previous, writeProgress(socket), now);
      if (watch !== null && now - watch.since >= limitMs) {
        watches.delete(socket);
        onDropped();
        socket.destroy();
      } else watches.set(socket, watch);
    }
  };
  // Checked as often as Node's own timeouts are.
  const timer = setInterval(sweep, checkIntervalMs(limitMs));
  timer.unref();
  server.once("close", () => clearInterval(timer));
}
