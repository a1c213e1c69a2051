import { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { loopbackHosts } from "./loopback-hosts.ts";
import { waitFor } from "./wait-for.ts";

const start = loopbackHosts();
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
  it("hands the kernel what one turn of the event loop sends on a connection in one write", async () => {
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
});
