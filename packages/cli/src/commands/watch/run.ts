import { fetchNodeStatus, type NodeStatus } from "@walras/node";
import { formatNumber } from "../../text-table.ts";
import { askNode } from "../status/ask-node.ts";
import { formatStatus } from "../status/format-status.ts";
import { PriceHistory } from "./price-history.ts";
import { sparkline } from "./sparkline.ts";

export interface WatchFlags {
  readonly node: string;
  readonly untilConverged?: boolean;
  readonly interval: number;
}

const CLEAR = "\x1b[H\x1b[2J";

/**
 * Polls the node and redraws (on a terminal) or prints a line per change (in a pipe). The first
 * poll must answer; later misses are shown and retried, since a node may be restarting.
 */
export async function runWatch(flags: WatchFlags): Promise<void> {
  const history = new PriceHistory();
  const tty = process.stdout.isTTY === true;
  let status = await askNode(() => fetchNodeStatus(flags.node));
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  let lastLine = "";
  let problem: string | null = null;
  try {
    while (!interrupted) {
      history.add(status);
      if (tty) process.stdout.write(`${CLEAR}${screen(flags.node, status, history, problem)}\n`);
      else {
        const line = summaryLine(status);
        if (line !== lastLine) process.stdout.write(`${line}\n`);
        lastLine = line;
      }
      if (flags.untilConverged && status.status === "converged" && status.certificate?.epoch === status.epoch)
        return;
      await new Promise((r) => setTimeout(r, flags.interval));
      try {
        status = await fetchNodeStatus(flags.node);
        problem = null;
      } catch (err) {
        problem = (err as Error).message;
      }
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

function screen(url: string, s: NodeStatus, history: PriceHistory, problem: string | null): string {
  const paths = Object.entries(s.prices).map(([id, p]) => {
    const path = history.get(id);
    return `price path ${id}: ${sparkline(path)}  ${formatNumber(p)} (${path.length} rounds seen)`;
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
    .map(([id, p]) => `${id}=${formatNumber(p)}`)
    .join(" ");
  const agreement = s.agreement ? `${s.agreement.matching}/${s.agreement.received}` : "-";
  return `epoch ${s.epoch ?? "-"} round ${s.round ?? "-"} ${s.status} prices ${prices} residual ${
    s.residual === null ? "-" : formatNumber(s.residual, 3)
  } agreement ${agreement} members ${s.members.length} peers ${s.peers}`;
}
