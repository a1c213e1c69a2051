import type { NodeStatus } from "@walras/node";
import { formatNumber } from "../../text-table.ts";

/**
 * Turns successive polls of the network into lines worth printing: one per round the first node
 * reports, one when the member count or the epoch changes, one per certificate.
 */
export class ProgressLog {
  #last = "";
  readonly #nodes: number;

  constructor(nodes: number) {
    this.#nodes = nodes;
  }

  /** The line for this poll, or null when nothing changed since the last one. */
  next(statuses: readonly (NodeStatus | null)[]): string | null {
    const up = statuses.filter((s) => s !== null);
    const lead = up[0];
    if (!lead) return this.#emit("waiting for the nodes' status APIs");
    if (lead.epoch === null) {
      const announced = new Set(up.flatMap((s) => [...s.pendingJoins, ...s.members]));
      return this.#emit(
        `waiting for members: ${announced.size}/${this.#nodes} announced, ${Math.min(...up.map((s) => s.peers))}+ peers each`,
      );
    }
    const prices = Object.entries(lead.prices)
      .map(([id, p]) => `${id} ${formatNumber(p).padEnd(10)}`)
      .join(" ");
    const agreement = lead.agreement ? `${lead.agreement.matching}/${lead.agreement.received}` : "-";
    const cert = lead.certificate?.epoch === lead.epoch ? lead.certificate : null;
    const key = `${lead.epoch}/${lead.round}/${lead.status}/${cert?.signers ?? 0}`;
    const line = cert
      ? `epoch ${lead.epoch} certified at round ${cert.round}: ${cert.signers}/${cert.members.length} signatures`
      : `epoch ${lead.epoch} round ${String(lead.round ?? "-").padStart(3)}  price ${prices} residual ${
          lead.residual === null ? "-        " : formatNumber(lead.residual, 3).padEnd(9)
        } votes agree ${agreement}  members ${lead.members.length}`;
    return this.#emitKeyed(key, line);
  }

  #emit(line: string): string | null {
    return this.#emitKeyed(line, line);
  }

  #emitKeyed(key: string, line: string): string | null {
    if (key === this.#last) return null;
    this.#last = key;
    return line;
  }
}
