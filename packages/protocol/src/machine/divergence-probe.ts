import type { AgentId } from "../wire/ids.ts";
import type { MachineContext } from "./machine-context.ts";

/** Rounds of one epoch a probe remembers asking about, at most (the window validation keeps is smaller). */
const MAX_ROUNDS_ASKED = 16;

/**
 * Detection on divergence (docs/protocol.md §5.1). A node that rejects a current member's demand
 * for round k+1 as `price-mismatch`, or holds a commit of its epoch whose body differs from the one
 * it settled on, closed some round on another demand set than that member: the only way honest
 * nodes can, since each computes the same bits from the same set, is a member that signed two
 * demands for one round (or a bug). The node asks peers for that round's demands of every member,
 * so that the version it lacks arrives and validate() rejects it as `equivocation` with the proof.
 *
 * Costs nothing while rounds agree (no message is added to a market round), and is bounded when
 * they do not: one ask per (epoch, round) per half round timeout, whatever the number of
 * mismatching demands (a flood of them, forged or not, asks no more).
 */
export class DivergenceProbe {
  readonly #ctx: MachineContext;
  /** `round` -> when it was last asked for, for the epoch in `#epoch`. */
  readonly #askedAt = new Map<number, number>();
  #epoch: number | null = null;

  constructor(ctx: MachineContext) {
    this.#ctx = ctx;
  }

  /**
   * Asks for the demands of (`epoch`, `round`). `sender`: whose message disagreed; its node holds
   * its side's version of every demand it closed the round on, so it is asked first, with the other
   * members (a request that names them all brings every member's demand).
   */
  ask(epoch: number, round: number, members: readonly AgentId[], sender: AgentId): void {
    const { now, contract, out } = this.#ctx;
    if (round < 0) return;
    if (this.#epoch !== epoch) {
      this.#epoch = epoch;
      this.#askedAt.clear();
    }
    const last = this.#askedAt.get(round);
    if (last !== undefined && now - last < contract.timeouts.roundMs / 2) return;
    this.#askedAt.delete(round);
    this.#askedAt.set(round, now);
    if (this.#askedAt.size > MAX_ROUNDS_ASKED)
      this.#askedAt.delete(this.#askedAt.keys().next().value as number);
    const others = members.filter((id) => id !== sender && id !== this.#ctx.me);
    out.log("info", "round closed on another demand set than a member's: asking for its demands", {
      epoch,
      round,
      sender,
    });
    out.sync({ type: "messages", epoch, round, kinds: ["demand"], from: [sender, ...others] });
  }
}
