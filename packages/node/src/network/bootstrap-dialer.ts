import type { Libp2p, PeerId } from "@libp2p/interface";
import { type Multiaddr, multiaddr } from "@multiformats/multiaddr";
import type { Logger } from "pino";

export interface BootstrapDialerInit {
  /** First retry delay; doubles per failure up to `maxBackoffMs`. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  logger?: Logger;
  /** Told of each address's first connection, with the peer behind it. */
  onConnected?: (peer: PeerId, address: string) => void;
}

export interface BootstrapDialer {
  /** Resolves once every bootstrap address has been connected at least once (or the dialer stopped). */
  readonly allConnected: Promise<void>;
  stop(): void;
}

/** The peer id named by a multiaddr's trailing /p2p/<id>, if it has one. */
export function peerIdStringOf(addr: Multiaddr): string | undefined {
  return addr.getComponents().findLast((c) => c.name === "p2p")?.value;
}

/**
 * Keeps a connection to each bootstrap address, whether or not it names a peer id. Compose only
 * knows `/dns4/bootstrap/tcp/4001`, and a bootstrap node that is not up yet must not be fatal, so
 * each address gets its own loop: dial, back off on failure, and dial again after the peer
 * behind it disconnects. @libp2p/bootstrap alone cannot do this: it needs the peer id up front
 * and dials once.
 */
export function startBootstrapDialer(
  libp2p: Libp2p,
  addresses: string[],
  init: BootstrapDialerInit = {},
): BootstrapDialer {
  const initialBackoffMs = init.initialBackoffMs ?? 250;
  const maxBackoffMs = init.maxBackoffMs ?? 10_000;
  const controller = new AbortController();
  const { signal } = controller;

  const loops = addresses.map(async (text) => {
    const addr = multiaddr(text);
    let backoff = initialBackoffMs;
    let firstConnection = true;
    let connectedOnce!: () => void;
    const connected = new Promise<void>((resolve) => {
      connectedOnce = resolve;
    });
    const loop = (async () => {
      while (!signal.aborted) {
        try {
          const connection = await libp2p.dial(addr, { signal });
          if (firstConnection) {
            init.logger?.info(
              { addr: text, peer: connection.remotePeer.toString() },
              "bootstrap peer connected",
            );
            firstConnection = false;
            init.onConnected?.(connection.remotePeer, text);
          }
          connectedOnce();
          backoff = initialBackoffMs;
          await untilDisconnected(libp2p, connection.remotePeer, signal);
        } catch (err) {
          if (signal.aborted) break;
          init.logger?.debug({ addr: text, err: String(err), retryInMs: backoff }, "bootstrap dial failed");
          await delay(jitter(backoff), signal);
          backoff = Math.min(backoff * 2, maxBackoffMs);
        }
      }
      connectedOnce();
    })();
    loop.catch(() => {});
    await connected;
  });

  return {
    allConnected: Promise.all(loops).then(() => {}),
    stop: () => controller.abort(),
  };
}

function untilDisconnected(libp2p: Libp2p, peer: PeerId, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      libp2p.removeEventListener("peer:disconnect", onDisconnect);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const onDisconnect = (event: CustomEvent<PeerId>): void => {
      if (event.detail.equals(peer)) done();
    };
    libp2p.addEventListener("peer:disconnect", onDisconnect);
    signal.addEventListener("abort", done, { once: true });
    // The connection may have closed between the dial and the listener.
    if (libp2p.getConnections(peer).length === 0) done();
  });
}

/** Spread retries so nodes that start together do not dial in lockstep. */
function jitter(ms: number): number {
  return ms * (0.75 + Math.random() * 0.5);
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
