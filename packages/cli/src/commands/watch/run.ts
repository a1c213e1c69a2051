import { setTimeout as sleep } from "node:timers/promises";
import { fetchNodeStatus, type NodeStatus } from "@walras/node";
import { FailureError } from "../../cli-error.ts";
import { printable } from "../../printable.ts";
import { formatNumber } from "../../text-table.ts";
import { askNode } from "../status/ask-node.ts";
import { formatStatus } from "../status/format-status.ts";
import { PriceHistory } from "./price-history.ts";
import { sparkline } from "./sparkline.ts";

export interface WatchFlags {
  readonly node: string;
  readonly untilConverged?: boolean;
  readonly interval: number;
  readonly maxFailures: number;
}

const CLEAR = "\x1b[H\x1b[2J";

/**
 * Polls the node and redraws (on a terminal) or prints a line per change (in a pipe). The first
 * poll must answer; later misses are shown (on the screen, or on stderr in a pipe, where a script's
 * log is the only witness) and retried, since a node may be restarting, but only `maxFailures` in a
 * row: a node that stays gone must end a `--until-converged` wait, not hang it.
 * `--until-converged` succeeds only on convergence: a signal before it is a failure, so that
 * `timeout 60 walras watch --until-converged && next` does not go on to `next`.
 */
export async function runWatch(flags: WatchFlags): Promise<void> {
  const history = new PriceHistory();
  const tty = process.stdout.isTTY === true;
  let status = await askNode(() => fetchNodeStatus(flags.node));
  const interrupt = new AbortController();
  const onSignal = () => interrupt.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const interrupted = new Promise<null>((resolve) =>
    interrupt.signal.addEventListener("abort", () => resolve(null), { once: true }),
  );
  let lastLine = "";
  let problem: string | null = null;
  let failures = 0;
  try {
    while (!interrupt.signal.aborted) {
      history.add(status);
      if (tty) process.stdout.write(`${CLEAR}${screen(flags.node, status, history, problem)}\n`);
      else {
        const line = summaryLine(status);
        if (line !== lastLine) process.stdout.write(`${line}\n`);
        lastLine = line;
      }
      if (flags.untilConverged && converged(status)) return;
      await sleep(flags.interval, undefined, { signal: interrupt.signal }).catch(() => undefined);
      if (interrupt.signal.aborted) break;
      try {
        const next = await Promise.race([fetchNodeStatus(flags.node), interrupted]);
        if (next === null) break;
        status = next;
        if (problem !== null && !tty) process.stderr.write(`${flags.node}: answers again\n`);
        problem = null;
        failures = 0;
      } catch (err) {
        const message = namingNode(flags.node, (err as Error).message);
        failures += 1;
        if (failures >= flags.maxFailures)
          throw new FailureError(`${message}; gave up after ${failures} failed polls in a row`);
        if (!tty && message !== problem) process.stderr.write(`poll failed: ${message}\n`);
        problem = message;
      }
    }
    if (flags.untilConverged)
      throw new FailureError(
        `${flags.node}: interrupted before convergence (epoch ${status.epoch ?? "-"}, round ${status.round ?? "-"}, ${printable(String(status.status))})`,
      );
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** Converged with a certificate for the epoch it is in (not merely the last one's). */
function converged(s: NodeStatus): boolean {
  return s.status === "converged" && s.certificate?.epoch === s.epoch;
}

/** The status client's errors name the URL; anything else gets it in front. */
function namingNode(url: string, message: string): string {
  return message.includes(url) ? message : `${url}: ${message}`;
}

function screen(url: string, s: NodeStatus, history: PriceHistory, problem: string | null): string {
  const paths = Object.entries(s.prices).map(([id, p]) => {
    const path = history.get(id);
    return `price path ${printable(id)}: ${sparkline(path)}  ${formatNumber(p)} (${path.length} rounds seen)`;
  });
  return [
    `walras watch ${url}   (Ctrl-C to exit)`,
    "",
    formatStatus(s),
    "",
    ...paths,
    ...(problem ? ["", `last poll failed: ${problem}`] : []),
  ].join("\n");
}

function summaryLine(s: NodeStatus): string {
  const prices = Object.entries(s.prices)
    .map(([id, p]) => `${printable(id)}=${formatNumber(p)}`)
    .join(" ");
  const agreement = s.agreement ? `${s.agreement.matching}/${s.agreement.received}` : "-";
  return `epoch ${s.epoch ?? "-"} round ${s.round ?? "-"} ${printable(String(s.status))} prices ${prices} residual ${
    s.residual === null ? "-" : formatNumber(s.residual, 3)
  } agreement ${agreement} members ${s.members.length} peers ${s.peers}`;
}
