import { type Host, requestSync, type SyncRequest } from "@walras/node";
import { waitFor } from "./wait-for.ts";

/** What a sync flood got out of its target. */
export interface SyncFloodReport {
  /** Requests sent. */
  requests: number;
  /** Requests answered with messages. */
  answered: number;
  /** Requests answered with an error that says the budget is spent. */
  refused: number;
  /** Requests that failed otherwise (reset unread, hang-ups, timeouts). */
  failed: number;
  /** Messages received in answers. */
  messages: number;
}

/**
 * Floods `target` with one sync request over `streams` concurrent streams, each sending the next
 * as soon as the last is answered, until `stop` resolves: what one hostile peer can do with the
 * documented protocol (docs/protocol.md §3) and nothing else. Returns what came back.
 */
export async function floodSync(
  host: Host,
  /** Peer id of the target, which `host` is connected to (or was, and still has addresses for). */
  target: string,
  request: SyncRequest,
  options: { streams: number; stop: Promise<void> },
): Promise<SyncFloodReport> {
  const report: SyncFloodReport = { requests: 0, answered: 0, refused: 0, failed: 0, messages: 0 };
  let done = false;
  void options.stop.then(() => {
    done = true;
  });
  const libp2p = host.libp2p;
  const connected = () => libp2p.getPeers().find((p) => p.toString() === target);
  await waitFor(() => connected() !== undefined, { timeoutMs: 20_000, what: `a connection to ${target}` });
  const address = connected() as NonNullable<ReturnType<typeof connected>>;
  const worker = async () => {
    while (!done) {
      report.requests++;
      try {
        const res = (await requestSync(libp2p, address, request, { timeoutMs: 5_000 })) as {
          messages?: string[];
        };
        report.answered++;
        report.messages += res.messages?.length ?? 0;
      } catch (err) {
        if (/over budget/.test((err as Error).message)) report.refused++;
        else {
          report.failed++;
          // Reset streams come back at once; a lost connection is dialled again by the next
          // request, so do not spin while it is down.
          if (libp2p.getConnections(address).length === 0) await new Promise((r) => setTimeout(r, 50));
        }
      }
    }
  };
  await Promise.all(Array.from({ length: options.streams }, worker));
  return report;
}
