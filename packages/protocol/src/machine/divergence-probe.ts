import type { AgentId } from "../wire/ids.ts";
import type { MachineContext } from "./machine-context.ts";

/**
 * Detection on divergence (docs/protocol.md §5.1). A node that rejects a current member's demand
 * for round k+1 as `price-mismatch`, or holds a commit of its epoch whose body differs from the one
 * it settled on, closed some round up to k on another demand set than that member: the only way
 * honest nodes can, since each computes the same bits from the same set, is a member that signed
 * two demands for one round (or a bug). That round need not be k: the newton rule carries round
 * 0's demands in its anchor, so two sides split at round 0 can agree on round 1's prices and part
 * only from round 2. The node asks peers for the demands of every member in every round 0..k of
 * the epoch, in one request, so that the version it lacks arrives and validate() rejects it as
 * `equivocation` with the proof.
 *
 * Costs nothing while rounds agree (no message is added to a market round), and is bounded when
 * they do not: a round already covered by an ask in the last half round timeout is not asked
 * again, so a flood of mismatching demands, forged or not, asks no more than one request per
 * half timeout plus one per round the epoch advances.
 */
export class DivergenceProbe {
  readonly #ctx: MachineContext;
  /** The last ask: rounds 0..`through` of `epoch` were asked for at `at`. */
  #last: { readonly epoch: number; readonly through: number; readonly at: number } | null = null;

  constructor(ctx: MachineContext) {
    this.#ctx = ctx;
  }

  /**
   * Asks for the demands of rounds 0..`through` of `epoch`. `sender`: whose message disagreed; its
   * node holds its side's version of every demand it closed those rounds on, so it is asked
   * first, with the other members (a request that names them all brings every member's demand).
   */
  ask(epoch: number, through: number, members: readonly AgentId[], sender: AgentId): void {
    const { now, contract, out } = this.#ctx;
    if (through < 0) return;
    const last = this.#last;
    const fresh = last !== null && last.epoch === epoch && now - last.at < contract.timeouts.roundMs / 2;
    if (fresh && last.through >= through) return;
    this.#last = { epoch, through, at: now };
    const others = members.filter((id) => id !== sender && id !== this.#ctx.me);
    out.log("info", "closed a round on another demand set than a member's: asking for the epoch's demands", {
      epoch,
      through,
      sender,
    });
    // Round 0 alone is one round's demands; beyond it, one request without a round brings every
    // round of the epoch the peer holds (sync `messages`, protocol §3), 0..k among them.
    out.sync({
      type: "messages",
      epoch,
      ...(through === 0 ? { round: 0 } : {}),
      kinds: ["demand"],
      from: [sender, ...others],
    });
  }
}
