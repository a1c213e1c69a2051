import type { ServerResponse } from "node:http";
import type { HttpRefusals } from "../http-refusals.ts";

/** One browser's Server-Sent Events connection (the text/event-stream framing of the HTML standard). */
export interface EventSink {
  send(event: string, data: unknown): void;
  /** A frame already made by eventFrame: what a broadcast writes to every client. */
  write(frame: string): void;
  /** A comment line: keeps idle proxies and load balancers from closing the stream. */
  ping(): void;
}

/**
 * A client that reads slower than the market moves is cut off rather than buffered without end;
 * its EventSource reconnects and starts again from a fresh snapshot.
 */
export const EVENTS_MAX_BUFFERED_BYTES = 1 << 20;
/** How long a browser waits before reconnecting when the stream ends (a node restarting). */
const RETRY_MS = 2000;

/** `refusals` is told of a client cut off for reading too slowly (`slow_events_reader`). */
export function openEventStream(res: ServerResponse, refusals: HttpRefusals, onClose: () => void): EventSink {
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    "x-content-type-options": "nosniff",
  });
  res.on("close", onClose);
  const write = (text: string) => {
    if (res.destroyed) return;
    if (res.writableLength > EVENTS_MAX_BUFFERED_BYTES) {
      refusals.refused("slow_events_reader");
      res.destroy();
      return;
    }
    res.write(text);
  };
  write(`retry: ${RETRY_MS}\n\n`);
  return {
    send: (event, data) => write(eventFrame(event, data)),
    write,
    ping: () => write(": ping\n\n"),
  };
}

/** One event as sent on the stream. */
export function eventFrame(event: string, data: unknown): string {
  // JSON.stringify escapes newlines, so each frame is one data line.
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
