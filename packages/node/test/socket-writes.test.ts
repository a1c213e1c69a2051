import { once } from "node:events";
import { createRequire } from "node:module";
import { connect as connectSocket, createServer, Socket } from "node:net";
import { dirname, join } from "node:path";
import type { MultiaddrConnection } from "@libp2p/interface";
import { afterEach, describe, expect, it } from "vitest";
import { libp2pLogger } from "../src/network/libp2p-logger.ts";
import { loopbackHosts } from "./loopback-hosts.ts";
import { waitFor } from "./wait-for.ts";

const start = loopbackHosts();
/** What a test started outside `start` (a plain TCP server), undone after it. */
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});
const PROTOCOL = "/walras-test/socket-writes/1.0.0";
/** Larger than any frame libp2p sends on its own (a yamux header, a ping, a window update). */
const PAYLOAD_BYTES = 3_000;

type WriteFn = (this: Socket, ...args: unknown[]) => unknown;

/**
 * The chunks handed to the kernel for each write on sockets whose remote port is `port`, while
 * `body` runs and until the next turn of the event loop: one entry per `_write` (one buffer) or
 * `_writev` (several), each a list of chunk sizes.
 */
async function socketWrites(port: number, body: () => void): Promise<number[][]> {
  const proto = Socket.prototype as unknown as { _write: WriteFn; _writev: WriteFn };
  const { _write, _writev } = proto;
  const calls: number[][] = [];
  proto._write = function (this: Socket, ...args: unknown[]) {
    if (this.remotePort === port) calls.push([(args[0] as Uint8Array).byteLength]);
    return _write.apply(this, args);
  };
  proto._writev = function (this: Socket, ...args: unknown[]) {
    if (this.remotePort === port)
      calls.push((args[0] as Array<{ chunk: Uint8Array }>).map((c) => c.chunk.byteLength));
    return _writev.apply(this, args);
  };
  try {
    body();
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    proto._write = _write;
    proto._writev = _writev;
  }
  return calls;
}

describe("TCP writes (patches/@libp2p__tcp@11.0.28.patch)", () => {
  it("hands the kernel what is sent on a connection at once (until process.nextTick) in one write", async () => {
    const a = await start();
    const b = await start();
    let received = 0;
    await b.libp2p.handle(PROTOCOL, (stream) => {
      stream.addEventListener("message", (evt) => {
        received += evt.data.byteLength;
      });
    });
    const address = b.libp2p.getMultiaddrs()[0];
    if (!address) throw new Error("b listens nowhere");
    const port = Number(/\/tcp\/(\d+)/.exec(address.toString())?.[1]);
    const stream = await a.libp2p.dialProtocol(address, PROTOCOL);

    // Three sends, each a Noise frame of two buffers (its length, its ciphertext): unpatched,
    // each buffer was its own write(2), six in all.
    const calls = await socketWrites(port, () => {
      for (let i = 0; i < 3; i++) stream.send(new Uint8Array(PAYLOAD_BYTES).fill(i));
    });
    await waitFor("the three payloads to arrive", () => received === 3 * PAYLOAD_BYTES);

    const carrying = calls.filter((sizes) => sizes.some((s) => s > PAYLOAD_BYTES));
    expect(carrying).toHaveLength(1);
    expect(carrying[0]?.filter((s) => s > PAYLOAD_BYTES)).toHaveLength(3);
  });

  it("sends what is corked before an abort resets the connection", async () => {
    // The connection class is not exported; its module sits beside the package's entry point.
    const entry = createRequire(import.meta.url).resolve("@libp2p/tcp");
    const { toMultiaddrConnection } = (await import(join(dirname(entry), "socket-to-conn.js"))) as {
      toMultiaddrConnection(init: Record<string, unknown>): MultiaddrConnection;
    };
    const server = createServer();
    cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const accepted = once(server, "connection") as Promise<[Socket]>;
    const port = (server.address() as { port: number }).port;
    const socket = connectSocket(port, "127.0.0.1");
    await once(socket, "connect");
    const [remote] = await accepted;
    let received = 0;
    remote.on("data", (chunk: Buffer) => {
      received += chunk.byteLength;
    });
    // The reset: events.once would reject on it, before the close that follows.
    remote.on("error", () => {});
    const closed = new Promise((resolve) => remote.once("close", resolve));

    const connection = toMultiaddrConnection({
      socket,
      direction: "outbound",
      log: libp2pLogger({})?.forComponent("socket-writes"),
    });
    // As a muxer's abort does: its last frame (a GoAway), then the reset, at once.
    connection.send(new Uint8Array(PAYLOAD_BYTES).fill(1));
    connection.abort(new Error("aborted by the test"));
    await closed;
    expect(received).toBe(PAYLOAD_BYTES);
  });
});
