import type { Connection, Libp2p, PeerId, Stream } from "@libp2p/interface";
import { lpStream } from "@libp2p/utils";
import type { Multiaddr } from "@multiformats/multiaddr";
import { parseJsonBody } from "./json-body.ts";
import {
  errorResponseSchema,
  responseSchemaFor,
  type SyncRequest,
  type SyncResponse,
  type SyncResponseFor,
  syncRequestSchema,
} from "./sync-messages.ts";

/** The sync protocol, whose `messages` requests may name `agents` (protocol §3). */
export const SYNC_PROTOCOL = "/walras/sync/2.1.0";
/**
 * The protocol before `agents`, still served and still spoken: its requests are 2.1.0's without
 * `agents`, so one handler serves both, and a node that offers only 2.0.0 is asked without them
 * (it answers every matching message, as such nodes asked and answered). Mixed-version networks
 * thus keep catching up while they upgrade.
 */
export const SYNC_PROTOCOL_2_0 = "/walras/sync/2.0.0";
export const MAX_SYNC_REQUEST_BYTES = 4 * 1024;
export const DEFAULT_MAX_SYNC_RESPONSE_BYTES = 4 * 1024 * 1024;

/** Answers one request. A throw becomes an error response naming the message, never a crash. */
export type SyncHandler = (request: SyncRequest, from: string) => Promise<SyncResponse>;

export interface HandleSyncOptions {
  /** Largest response the server will send; a bigger one becomes an error response. */
  maxResponseBytes?: number;
  /** How long a peer gets to send its request. Default 5 s. */
  requestTimeoutMs?: number;
  /** How long the handler gets before the peer is told it timed out. Default 10 s. */
  handlerTimeoutMs?: number;
  /** Concurrent inbound sync streams per connection. Default 8. */
  maxInboundStreams?: number;
  /**
   * Concurrent inbound streams of the older protocol per connection, on top of
   * `maxInboundStreams` (libp2p counts per protocol). Default 2: a node that has not upgraded
   * asks a few peers at a time, and a flooder gains little by speaking the old protocol.
   */
  maxLegacyInboundStreams?: number;
  /** Told about each failed exchange (bad request, handler error, stream error). */
  onError?(err: unknown, from: string): void;
  /**
   * Told about a request whose asker reset its stream (it gave up waiting) before the answer was
   * sent. Nothing more is built or sent for it: the handler is not run if the asker was already
   * gone when the request was read, and the answer is not encoded if it went while the handler ran.
   */
  onAbandoned?(request: SyncRequest, from: string): void;
  /**
   * Whether to read a new stream from this peer at all. A refused stream is held unread for
   * `refusedHoldMs` and then reset: with at most `maxInboundStreams` open per connection, a peer
   * known to flood gets that many requests per hold time, and each costs next to nothing.
   */
  admit?(from: string): boolean;
  /** Default 2 s. */
  refusedHoldMs?: number;
}

export interface RequestSyncOptions {
  /** Whole exchange: dial, request, response. Default 10 s. */
  timeoutMs?: number;
  /** Largest response accepted. Default 4 MiB. */
  maxBytes?: number;
  signal?: AbortSignal;
}

/** A failed exchange: timeout, oversized or malformed response, or the peer's error response. */
export class SyncError extends Error {
  readonly peer: string;
  /** No answer within the request's time (as against a refusal, a bad answer or a lost stream). */
  readonly timedOut: boolean;
  /** The answer passed `maxBytes`: it was refused at its length prefix, unread. */
  readonly oversized: boolean;
  /**
   * The peer said no: it answered with an error (over its budget for us, most often), or reset
   * the stream, as a server does with the requests of a peer it banned or graylisted (held
   * unread, then reset).
   */
  readonly refused: boolean;
  constructor(
    peer: string,
    message: string,
    options?: ErrorOptions & { timedOut?: boolean; oversized?: boolean; refused?: boolean },
  ) {
    super(`sync with ${peer}: ${message}`, options);
    this.name = "SyncError";
    this.peer = peer;
    this.timedOut = options?.timedOut ?? false;
    this.oversized = options?.oversized ?? false;
    this.refused = options?.refused ?? false;
  }
}

/** A length prefix (an unsigned varint) of a body up to 2^63 bytes. */
const MAX_VARINT_BYTES = 10;
/** What @libp2p/utils throws for a body over maxDataLength, or a buffer over maxBufferSize. */
const OVERSIZE_ERRORS = new Set([
  "InvalidDataLengthError",
  "InvalidDataLengthLengthError",
  "StreamBufferError",
]);

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Parses and validates a request body; on failure, the one-line reason to send back. */
export function parseSyncRequest(
  bytes: Uint8Array,
): { ok: true; request: SyncRequest } | { ok: false; error: string } {
  const parsed = parseJsonBody(bytes, syncRequestSchema, "request");
  return parsed.ok ? { ok: true, request: parsed.value } : parsed;
}

/** Serves the sync protocol: one length-prefixed JSON request, one length-prefixed JSON response. */
export async function handleSync(
  libp2p: Libp2p,
  handler: SyncHandler,
  options: HandleSyncOptions = {},
): Promise<void> {
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_SYNC_RESPONSE_BYTES;
  const requestTimeoutMs = options.requestTimeoutMs ?? 5_000;
  const handlerTimeoutMs = options.handlerTimeoutMs ?? 10_000;
  const refusedHoldMs = options.refusedHoldMs ?? 2_000;
  const serve = async (stream: Stream, connection: Connection) => {
    const from = connection.remotePeer.toString();
    if (options.admit && !options.admit(from)) {
      const hold = setTimeout(() => stream.abort(new Error("refused: too many requests")), refusedHoldMs);
      hold.unref();
      return;
    }
    try {
      const outcome = await serveOne(
        stream,
        from,
        handler,
        maxResponseBytes,
        requestTimeoutMs,
        handlerTimeoutMs,
      );
      if (outcome.kind === "failed") options.onError?.(new Error(outcome.problem), from);
      else if (outcome.kind === "abandoned") options.onAbandoned?.(outcome.request, from);
    } catch (err) {
      options.onError?.(err, from);
      stream.abort(err instanceof Error ? err : new Error(String(err)));
    }
  };
  await libp2p.handle(SYNC_PROTOCOL, serve, { maxInboundStreams: options.maxInboundStreams ?? 8 });
  await libp2p.handle(SYNC_PROTOCOL_2_0, serve, {
    maxInboundStreams: options.maxLegacyInboundStreams ?? 2,
  });
}

/** How one inbound exchange ended, as far as the server is concerned. */
type ServeOutcome =
  | { readonly kind: "answered" }
  | { readonly kind: "failed"; readonly problem: string }
  | { readonly kind: "abandoned"; readonly request: SyncRequest };

/**
 * The asker has reset its end: it timed out or went away. Under load a request can sit in the
 * socket until after its asker gave up (the reset then arrives with it or before the answer is
 * ready), and building a page of messages nobody will read only deepens the load that made it late.
 */
function askerGone(stream: Stream): boolean {
  return stream.status !== "open" || stream.writeStatus !== "writable";
}

async function serveOne(
  stream: Stream,
  from: string,
  handler: SyncHandler,
  maxResponseBytes: number,
  requestTimeoutMs: number,
  handlerTimeoutMs: number,
): Promise<ServeOutcome> {
  let signal = AbortSignal.timeout(requestTimeoutMs);
  const lp = lpStream(stream, { maxDataLength: MAX_SYNC_REQUEST_BYTES });
  let response: SyncResponse;
  let body: Uint8Array;
  try {
    body = (await lp.read({ signal })).subarray();
  } catch (err) {
    // Oversized or truncated: answer if the stream still allows it, so the peer learns why.
    const problem = `unreadable request: ${describe(err)}`;
    try {
      await lp.write(encodeJson({ error: problem }), { signal });
      await stream.close({ signal });
    } catch {
      stream.abort(err instanceof Error ? err : new Error(problem));
    }
    return { kind: "failed", problem };
  }
  const parsed = parseSyncRequest(body);
  // What went wrong inside this node (a store path, a disk error) is for its own log, not the peer.
  let localProblem: string | undefined;
  if (!parsed.ok) {
    response = { error: parsed.error };
  } else {
    if (askerGone(stream)) return { kind: "abandoned", request: parsed.request };
    try {
      response = await withDeadline(handler(parsed.request, from), handlerTimeoutMs);
    } catch (err) {
      localProblem = `handler failed: ${describe(err)}`;
      response = { error: err instanceof HandlerTimeout ? localProblem : "handler failed" };
    }
  }
  if (parsed.ok && askerGone(stream)) return { kind: "abandoned", request: parsed.request };
  signal = AbortSignal.timeout(requestTimeoutMs);
  let bytes = encodeJson(response);
  if (bytes.byteLength > maxResponseBytes) {
    bytes = encodeJson({ error: `response of ${bytes.byteLength} bytes exceeds ${maxResponseBytes}` });
  }
  await lp.write(bytes, { signal });
  await stream.close({ signal });
  return "error" in response
    ? { kind: "failed", problem: localProblem ?? response.error }
    : { kind: "answered" };
}

/**
 * Sends one request to `peer` and returns its validated response. Throws SyncError on timeout,
 * an oversized or malformed response, or a refusal (an error response, a reset stream).
 */
export async function requestSync<R extends SyncRequest>(
  libp2p: Libp2p,
  peer: PeerId | Multiaddr,
  request: R,
  options: RequestSyncOptions = {},
): Promise<SyncResponseFor<R>> {
  const peerName = peer.toString();
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 10_000);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_SYNC_RESPONSE_BYTES;
  let stream: Stream | undefined;
  let raw: Uint8Array;
  try {
    stream = await libp2p.dialProtocol(peer, [SYNC_PROTOCOL, SYNC_PROTOCOL_2_0], { signal });
    // The length prefix is checked before the body is read, and the buffer is held to one body:
    // a server that sends more than it announced is cut off too, not buffered up to 4 MiB.
    const lp = lpStream(stream, { maxDataLength: maxBytes, maxBufferSize: maxBytes + MAX_VARINT_BYTES });
    await lp.write(encodeJson(requestFor(stream.protocol, request)), { signal });
    raw = (await lp.read({ signal })).subarray();
    await stream.close({ signal });
  } catch (err) {
    stream?.abort(err instanceof Error ? err : new Error(String(err)));
    const oversized = err instanceof Error && OVERSIZE_ERRORS.has(err.name);
    const reason = timeout.aborted
      ? "timed out"
      : oversized
        ? `answer over ${maxBytes} bytes: ${describe(err)}`
        : describe(err);
    const refused = !timeout.aborted && err instanceof Error && err.name === "StreamResetError";
    throw new SyncError(peerName, reason, { cause: err, timedOut: timeout.aborted, oversized, refused });
  }
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(raw));
  } catch (err) {
    throw new SyncError(peerName, `response is not UTF-8 JSON: ${describe(err)}`);
  }
  const error = errorResponseSchema.safeParse(json);
  if (error.success) throw new SyncError(peerName, `peer answered: ${error.data.error}`, { refused: true });
  const parsed = responseSchemaFor[request.type].safeParse(json);
  if (!parsed.success) {
    throw new SyncError(peerName, `malformed ${request.type} response: ${parsed.error.issues[0]?.message}`);
  }
  return parsed.data as SyncResponseFor<R>;
}

/** The request as the negotiated protocol has it: 2.0.0 knows no `agents`, and asks for all. */
function requestFor(protocol: string, request: SyncRequest): SyncRequest {
  if (protocol !== SYNC_PROTOCOL_2_0 || request.type !== "messages" || request.agents === undefined)
    return request;
  const { agents: _, ...everyAgent } = request;
  return everyAgent;
}

/** The one handler failure the peer is told about as it is: it says nothing of this node's insides. */
class HandlerTimeout extends Error {}

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HandlerTimeout(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
