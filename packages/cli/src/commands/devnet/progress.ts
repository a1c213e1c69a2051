import type { NodeStatus } from "@walras/node";
import { formatNumber } from "../../text-table.ts";

/**
 * What the devnet shows while the network works: a line per round the first node closes (from its
 * log, so none is missed however fast rounds go), and from polling every node's status, a line
 * when members gather, an epoch starts, or an epoch is certified.
 */
export class ProgressLog {
  #lastPoll = "";
  #lead: NodeStatus | null = null;
  #epochShown: unknown = null;
  readonly #nodes: number;
  readonly #resources: readonly string[];

  constructor(nodes: number, resources: readonly string[]) {
    this.#nodes = nodes;
    this.#resources = resources;
  }

  /** A "round closed" log entry of the first node: the line for it, or null for other entries. */
  logEntry(entry: Record<string, unknown>): string | null {
    if (entry.msg !== "round closed" || !Array.isArray(entry.prices)) return null;
    const prices = this.#resources
      .map((id, r) => `${id} ${formatNumber(Number((entry.prices as unknown[])[r] ?? 0)).padEnd(10)}`)
      .join(" ");
    const residual = typeof entry.residual === "number" ? formatNumber(entry.residual, 3) : "-";
    const header = this.#epochShown === entry.epoch ? "" : `${this.#epochHeader(entry.epoch)}\n`;
    this.#epochShown = entry.epoch;
    return `${header}  round ${String(entry.round).padStart(3)}  price ${prices} residual ${residual}`;
  }

  /** The line for this poll of every node, or null when nothing worth saying changed. */
  poll(statuses: readonly (NodeStatus | null)[]): string | null {
    const up = statuses.filter((s) => s !== null);
    const lead = up[0] ?? null;
    this.#lead = lead;
    if (!lead) return this.#once("waiting for the nodes' status APIs");
    if (lead.epoch === null) {
      const announced = new Set(up.flatMap((s) => [...s.pendingJoins, ...s.members]));
      return this.#once(`waiting for members: ${announced.size}/${this.#nodes} announced`);
    }
    const cert = lead.certificate?.epoch === lead.epoch ? lead.certificate : null;
    if (cert)
      return this.#once(
        `epoch ${lead.epoch} certified at round ${cert.round}: ${cert.signers}/${cert.members.length} members signed`,
      );
    if (this.#epochShown === lead.epoch) return null;
    this.#epochShown = lead.epoch;
    return this.#once(this.#epochHeader(lead.epoch));
  }

  #epochHeader(epoch: unknown): string {
    const lead = this.#lead;
    const members = lead && lead.epoch === epoch ? ` with ${lead.members.length} members` : "";
    return `epoch ${epoch} started${members}`;
  }

  #once(line: string): string | null {
    if (line === this.#lastPoll) return null;
    this.#lastPoll = line;
    return line;
  }
}
