import type { Host, SyncRequest } from "@walras/node";
import { SYNC_PROTOCOL, SYNC_PROTOCOL_2_0 } from "@walras/node";

/**
 * What a hostile sync server writes back: a JSON body, raw bytes that are not one, or a length
 * prefix announcing `announced` bytes followed by only a few of them (an answer too big to read).
 */
export type HostileAnswer =
  | { readonly json: unknown }
  | { readonly raw: Uint8Array }
  | { readonly announced: number };

/** The peer exchange protocol a joiner asks its peers over (docs/protocol.md §3). */
const PEER_EXCHANGE_PROTOCOL = "/walras/peer-exchange/1.0.0";

function varint(n: number): Uint8Array {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Uint8Array.from(out);
}

function framed(answer: HostileAnswer): Uint8Array {
  if ("announced" in answer) return Buffer.concat([varint(answer.announced), new Uint8Array(1024)]);
  const body = "raw" in answer ? answer.raw : new TextEncoder().encode(JSON.stringify(answer.json));
  return Buffer.concat([varint(body.length), body]);
}

interface RawStream extends AsyncIterable<Uint8Array | { subarray(): Uint8Array }> {
  send(data: Uint8Array): boolean;
  close(): Promise<void>;
  abort(err: Error): void;
}

/** Reads one length-prefixed body (a request is at most 4 KiB: one varint byte or two). */
async function readFramed(stream: RawStream): Promise<Uint8Array> {
  let buffer = new Uint8Array(0);
  for await (const chunk of stream) {
    buffer = Buffer.concat([buffer, chunk instanceof Uint8Array ? chunk : chunk.subarray()]);
    let length = 0;
    let shift = 1;
    let i = 0;
    for (; i < buffer.length; i++) {
      const byte = buffer[i] as number;
      length += (byte & 0x7f) * shift;
      shift *= 0x80;
      if (byte < 0x80) break;
    }
    if (i < buffer.length && buffer.length >= i + 1 + length) return buffer.subarray(i + 1, i + 1 + length);
  }
  throw new Error("the stream ended before a whole request");
}

/**
 * Makes `host` answer the sync protocol (both versions) with whatever `answer` says for each
 * request, and peer exchange with `peerExchange`'s bytes: a peer that a joiner asks and that lies.
 */
export async function serveHostileSync(
  host: Host,
  answer: (request: SyncRequest) => HostileAnswer,
  peerExchange: HostileAnswer,
): Promise<void> {
  const serve = async (stream: RawStream) => {
    try {
      const request = JSON.parse(new TextDecoder().decode(await readFramed(stream))) as SyncRequest;
      stream.send(framed(answer(request)));
      await stream.close();
    } catch (err) {
      stream.abort(err as Error);
    }
  };
  const libp2p = host.libp2p;
  await libp2p.handle(SYNC_PROTOCOL, (stream) => void serve(stream as unknown as RawStream));
  await libp2p.handle(SYNC_PROTOCOL_2_0, (stream) => void serve(stream as unknown as RawStream));
  // createHost serves peer exchange honestly: this peer lies instead.
  await libp2p.unhandle(PEER_EXCHANGE_PROTOCOL);
  await libp2p.handle(PEER_EXCHANGE_PROTOCOL, async (stream) => {
    const s = stream as unknown as RawStream;
    try {
      s.send(framed(peerExchange));
      await s.close();
    } catch (err) {
      s.abort(err as Error);
    }
  });
}
