import type { NodeStatus } from "@walras/node";
import { formatNumber } from "../../text-table.ts";

/** A certified market slot as the devnet saw it appear. */
export interface SlotSeen {
  readonly epoch: number;
  /** Why the slot opened (found, join, leave, silence, rebid, period, amend, renew), when the first node's log said. */
  readonly cause: readonly string[] | null;
  /** The round it converged at (rounds 0..round ran). */
  readonly round: number;
  readonly prices: Record<string, number>;
  readonly members: number;
}

/**
 * What the devnet shows while the network works, from the first node's log (so nothing is missed
 * however fast it goes): a line when an epoch (a market slot) starts, with why, and a line per
 * round it closes, and a line per certified slot; and from polling every node's status, a line
 * when members gather.
 */
export class ProgressLog {
  #lastPoll = "";
  #epochShown: unknown = null;
  readonly #causes = new Map<number, readonly string[]>();
  readonly #slots: SlotSeen[] = [];
  readonly #nodes: number;
  readonly #resources: readonly string[];

  constructor(nodes: number, resources: readonly string[]) {
    this.#nodes = nodes;
    this.#resources = resources;
  }

  /** Every certified slot seen so far, in order. */
  slots(): readonly SlotSeen[] {
    return this.#slots;
  }

  /** A log entry of the first node: the line for it, or null for entries not shown. */
  logEntry(entry: Record<string, unknown>): string | null {
    if (entry.msg === "certificate") return this.#certificateLogged(entry);
    if (entry.msg === "epoch plan adopted" && typeof entry.epoch === "number") {
      const cause = Array.isArray(entry.cause) ? entry.cause.map(String) : [];
      this.#causes.set(entry.epoch, cause);
      this.#epochShown = entry.epoch;
      const members = typeof entry.members === "number" ? ` with ${entry.members} members` : "";
      return `epoch ${entry.epoch} started${members}${cause.length > 0 ? ` (${cause.join(", ")})` : ""}`;
    }
    if (entry.msg !== "round closed" || !Array.isArray(entry.prices)) return null;
    const prices = this.#resources
      .map((id, r) => `${id} ${formatNumber(Number((entry.prices as unknown[])[r] ?? 0)).padEnd(10)}`)
      .join(" ");
    const residual = typeof entry.residual === "number" ? formatNumber(entry.residual, 3) : "-";
    // A node whose log misses the plan line (an older one) still gets a header per epoch.
    const header = this.#epochShown === entry.epoch ? "" : `epoch ${entry.epoch} started\n`;
    this.#epochShown = entry.epoch;
    return `${header}  round ${String(entry.round).padStart(3)}  price ${prices} residual ${residual}`;
  }

  /** The line for this poll of every node (members gathering, a slot certified), or null. */
  poll(statuses: readonly (NodeStatus | null)[]): string | null {
    const up = statuses.filter((s) => s !== null);
    const lead = up[0] ?? null;
    if (!lead) return this.#once("waiting for the nodes' status APIs");
    // The first node's log may say an epoch started before its status does.
    if (lead.epoch === null && this.#epochShown === null) {
      const announced = new Set(up.flatMap((s) => [...s.pendingJoins, ...s.members]));
      return this.#once(`waiting for members: ${announced.size}/${this.#nodes} announced`);
    }
    // The log's line usually comes first; the status is the fallback for a log that lacks it.
    const cert = lead.certificate;
    return cert ? this.#certified({ ...cert, members: cert.members.length }, cert.signers) : null;
  }

  /**
   * A certificate line of the first node's log. The log, not the status poll, is what sees every
   * slot: a slot that promotes new members certifies in one round, often within one poll of the
   * slot before it, and the poll then saw only the later certificate.
   */
  #certificateLogged(entry: Record<string, unknown>): string | null {
    const { epoch, round, members, signers } = entry;
    if (typeof epoch !== "number" || typeof round !== "number" || !Array.isArray(entry.prices)) return null;
    if (typeof members !== "number" || typeof signers !== "number") return null;
    const prices = Object.fromEntries(
      this.#resources.map((id, r) => [id, Number((entry.prices as unknown[])[r] ?? 0)]),
    );
    return this.#certified({ epoch, round, prices, members }, signers);
  }

  /** The line for a slot's first certificate seen; null when the slot was shown already. */
  #certified(cert: Omit<SlotSeen, "cause">, signers: number): string | null {
    if (this.#slots.some((s) => s.epoch === cert.epoch)) return null;
    const cause = this.#causes.get(cert.epoch) ?? null;
    const at = this.#slots.findIndex((s) => s.epoch > cert.epoch);
    this.#slots.splice(at === -1 ? this.#slots.length : at, 0, { ...cert, cause });
    const prices = Object.entries(cert.prices)
      .map(([id, p]) => `${id} ${formatNumber(p)}`)
      .join(", ");
    const rounds = cert.round + 1;
    return `epoch ${cert.epoch} certified${cause ? ` (${cause.join(", ")})` : ""} in ${rounds} round${
      rounds === 1 ? "" : "s"
    }: price ${prices}; ${signers}/${cert.members} members signed`;
  }

  #once(line: string): string | null {
    if (line === this.#lastPoll) return null;
    this.#lastPoll = line;
    return line;
  }
}
