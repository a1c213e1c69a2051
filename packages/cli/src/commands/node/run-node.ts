import { flushCompileCache } from "node:module";
import {
  createLogger,
  formatAnnouncement,
  type Logger,
  startWalrasNode,
  type WalrasNode,
  type WalrasNodeInit,
  withPeerId,
} from "@walras/node";
import { EXIT_FAILURE } from "../../cli-error.ts";
import { httpLimitFlags, type NodeRuntimeFlags } from "./node-options.ts";
import { type StartSources, startFailure } from "./start-failure.ts";

/** How long a stopped node's process may linger (open handles) before it exits anyway. */
const EXIT_GRACE_MS = 5_000;

/**
 * Starts one node, prints its addresses on stdout (logs go to stderr), and runs until SIGINT or
 * SIGTERM, then leaves gracefully: the others re-equilibrate without it.
 */
export async function runNodeUntilStopped(
  init: Omit<WalrasNodeInit, "dataDir" | "logger" | "http" | "listen" | "keyFile">,
  flags: NodeRuntimeFlags,
  sources: StartSources = {},
): Promise<void> {
  const logger = createLogger({ level: flags.logLevel, fd: 2 });
  exitOnUnhandledRejection(logger);
  let node: WalrasNode;
  try {
    node = await startWalrasNode({
      ...init,
      dataDir: flags.dataDir,
      logger,
      ...(flags.key ? { keyFile: flags.key } : {}),
      ...(flags.listen ? { listen: flags.listen } : {}),
      ...(flags.http !== undefined
        ? { http: { port: flags.http, host: flags.httpHost, limits: httpLimitFlags(flags) } }
        : {}),
    });
  } catch (err) {
    throw startFailure(err, flags, sources);
  }
  // Everything the node runs is loaded now: write V8's compiled code out (bin/walras enabled the
  // cache) so the next node starts from it even if this one is killed rather than stopped.
  flushCompileCache();
  const addrs = node.multiaddrs().map((a) => withPeerId(a, node.peerId));
  process.stdout.write(`${formatAnnouncement({ kind: "listening", peerId: node.peerId, addrs })}\n`);
  if (node.httpUrl)
    process.stdout.write(`${formatAnnouncement({ kind: "http", peerId: node.peerId, url: node.httpUrl })}\n`);

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
  // A second signal (Ctrl-C reaches a whole process group, then a supervisor sends SIGTERM) must
  // not cut the graceful leave short.
  const ignore = () => logger.info("already stopping");
  process.on("SIGINT", ignore);
  process.on("SIGTERM", ignore);
  logger.info({ signal }, "stopping: announcing leave");
  await node.stop({ leave: true });
  setTimeout(() => process.exit(process.exitCode ?? 0), EXIT_GRACE_MS).unref();
}

/**
 * A rejection nothing awaited is a bug in the node: its state can no longer be trusted, so the
 * process ends, non-zero, after one log line saying so (Node's default prints a bare stack and
 * bypasses the logger, so a supervisor reading JSON logs would see nothing).
 */
function exitOnUnhandledRejection(logger: Logger): void {
  process.on("unhandledRejection", (reason) => {
    const message = reason instanceof Error ? reason.message : String(reason);
    logger.fatal({ err: reason }, `unhandled promise rejection, exiting: ${message}`);
    logger.flush();
    process.exit(EXIT_FAILURE);
  });
}
