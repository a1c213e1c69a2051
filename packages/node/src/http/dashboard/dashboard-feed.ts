import type { Certificate } from "@walras/protocol";
import type { CertificateView } from "../../history/certificate-view.ts";
import type { HistoryEvent } from "../../history/market-history.ts";
import { DEFAULT_HTTP_LIMITS } from "../http-limits.ts";
import { type HttpRefusals, NO_HTTP_REFUSALS } from "../http-refusals.ts";
import { type RouteHandler, sendJson } from "../respond.ts";
import { type DashboardSource, liveFrame, readTraffic, snapshotFrame } from "./dashboard-frames.ts";
import { type EventSink, eventFrame, openEventStream } from "./event-stream.ts";

/** Peers and counters change without a protocol action: the status is pushed this often anyway. */
const LIVE_EVERY_MS = 1000;
/** After a round closes, the status follows this soon (rounds closing together share one frame). */
const SETTLE_MS = 40;
const PING_EVERY_TICKS = 20;

export interface DashboardFeedOptions {
  /**
   * Streams open at once (default 32, http-limits.ts). Each open page costs the node a socket
   * and its share of every frame: a bound, not a guess at load.
   */
  readonly maxStreams?: number;
  /** Told of each stream refused over the bound. */
  readonly refusals?: HttpRefusals;
}

/**
 * GET /events: a snapshot first, then the history as it grows (`round`, `epoch`, `certificate`
 * events) and the node's status (`live`) when it changes. All connected browsers share one
 * feed, which runs only while at least one is connected.
 */
export function dashboardFeed(
  source: DashboardSource,
  view: (certificate: Certificate) => CertificateView,
  options: DashboardFeedOptions = {},
): RouteHandler {
  const maxClients = options.maxStreams ?? DEFAULT_HTTP_LIMITS.maxEventStreams;
  const refusals = options.refusals ?? NO_HTTP_REFUSALS;
  const clients = new Set<EventSink>();
  /**
   * Places taken, counted before the first await: requests pipelined on one connection all reach
   * the handler before any of them is in `clients`, and counting only those let every one in.
   */
  let admitted = 0;
  let unsubscribe: (() => void) | null = null;
  let interval: ReturnType<typeof setInterval> | null = null;
  let settle: ReturnType<typeof setTimeout> | null = null;
  let ticks = 0;
  let lastStatus = "";
  let lastMembers = "";

  // Serialized once per frame, not once per client.
  const broadcast = (event: string, data: unknown) => {
    const frame = eventFrame(event, data);
    for (const c of clients) c.write(frame);
  };
  const report = (err: unknown) => source.onError?.(err);

  const pushLive = async () => {
    const traffic = await readTraffic(source.metrics);
    if (clients.size === 0) return;
    const frame = liveFrame(source, traffic);
    const { members, ...rest } = frame;
    const text = JSON.stringify(rest);
    const membersKey = members.join(",");
    if (text === lastStatus && membersKey === lastMembers) return;
    broadcast("live", membersKey === lastMembers ? rest : frame);
    lastStatus = text;
    lastMembers = membersKey;
  };

  // A certificate grows a signature at a time and each view verifies all of them: a burst of
  // growth is shown (and verified) once, as it stands when the burst settles.
  const certificates = new Map<number, Certificate>();
  const onHistory = (event: HistoryEvent) => {
    if (event.type === "round") broadcast("round", event.round);
    else if (event.type === "epoch") broadcast("epoch", event.epoch);
    else certificates.set(event.certificate.commit.epoch, event.certificate);
    // A throw inside a timer would end the node: it is reported, and the feed goes on.
    settle ??= setTimeout(() => {
      settle = null;
      try {
        for (const c of certificates.values()) broadcast("certificate", view(c));
        pushLive().catch(report);
      } catch (err) {
        report(err);
      } finally {
        certificates.clear();
      }
    }, SETTLE_MS);
  };

  const start = () => {
    unsubscribe = source.history.subscribe(onHistory);
    interval = setInterval(() => {
      try {
        if (++ticks % PING_EVERY_TICKS === 0) for (const c of clients) c.ping();
        pushLive().catch(report);
      } catch (err) {
        report(err);
      }
    }, LIVE_EVERY_MS);
  };
  const stop = () => {
    unsubscribe?.();
    unsubscribe = null;
    if (interval) clearInterval(interval);
    if (settle) clearTimeout(settle);
    interval = settle = null;
    certificates.clear();
  };

  return async (req, res) => {
    if (req.method === "HEAD") {
      res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8" });
      res.end();
      return;
    }
    if (admitted >= maxClients) {
      refusals.refused("event_streams");
      res.setHeader("retry-after", "10");
      sendJson(res, 503, { error: `${maxClients} dashboards are open on this node already` });
      return;
    }
    admitted++;
    // The response closes however the request ends (stream closed, error answered, client gone):
    // its place is given back then.
    let closed = false;
    res.once("close", () => {
      closed = true;
      admitted--;
    });
    const traffic = await readTraffic(source.metrics);
    // A client gone during the await would never close its stream again.
    if (closed) return;
    // From here to clients.add nothing awaits: no history event can fall between the snapshot
    // and the first incremental frame.
    const snapshot = snapshotFrame(source, traffic, view);
    const sink = openEventStream(res, refusals, () => {
      clients.delete(sink);
      if (clients.size === 0) stop();
    });
    sink.send("snapshot", snapshot);
    clients.add(sink);
    if (clients.size === 1) {
      lastStatus = "";
      lastMembers = snapshot.members.join(",");
      start();
    }
  };
}
