import type { AgentId } from "../wire/ids.ts";
import type { MachineContext } from "./machine-context.ts";

/**
 * Rounds one probe step asks for, one sync request each. The newest round holds the split unless
 * the price rule's state hid it (the newton rule's anchor and entry estimates carry older rounds'
 * demands: seed 72 split round 0 and differed only at round 2), so a step asks the newest round
 * and the one before. Bounded so that a step costs at most this many rounds' demands (one per
 * member each) per peer asked, whatever the epoch's length.
 */
export const PROBE_ROUNDS_PER_STEP = 2;

/**
 * Detection on divergence (docs/protocol.md §5.1). A node that rejects a current member's demand
 * for round k+1 as `price-mismatch`, or holds a commit of its epoch whose body differs from the one
 * it settled on, closed some round up to k on another demand set than that member: the only way
 * honest nodes can, since each computes the same bits from the same set, is a member that signed
 * two demands for one round (or a bug). That round need not be k: the price rule's state carries
 * earlier rounds' demands (the newton rule's anchor), so two sides split at round 0 can agree on
 * round 1's prices and part only from round 2. The node walks the rounds k, k−1, …, 0, newest
 * first, asking peers for each round's demands of every member by name, so that the version it
 * lacks arrives and validate() rejects it as `equivocation` with the proof; the walk ends there.
 *
 * Costs nothing while rounds agree (no message is added to a market round), and is bounded when
 * they do not: one step (PROBE_ROUNDS_PER_STEP rounds) per half round timeout, however many
 * mismatching demands arrive, forged or not. A mismatch naming a later round than the walk
 * covers adds its rounds at the front; once the walk is done, the next mismatch starts another
 * (a peer asked may not have held the version).
 */
export class DivergenceProbe {
  readonly #ctx: MachineContext;
  /** The walk: the epoch, the rounds still to ask (newest first), who disagreed and the members. */
  #walk: {
    readonly epoch: number;
    /** Descending runs of rounds, `from` down to `to`: a few numbers, however many rounds. */
    pending: RoundRun[];
    /** The highest round this walk has covered (asked or pending). */
    top: number;
    sender: AgentId;
    members: readonly AgentId[];
  } | null = null;
  /** When the next step may go out (half a round timeout after the last). */
  #nextAt = Number.NEGATIVE_INFINITY;
  /** The epoch a proof was found in: its split is proven, and it asks no more. */
  #proven: number | null = null;

  constructor(ctx: MachineContext) {
    this.#ctx = ctx;
  }

  /**
   * Rounds 0..`through` of `epoch` are to be asked for, but none after `held`, this node's own
   * round in it: it holds no later round to have closed differently, and `through` may come from
   * a peer's message (a commit's round is not windowed). `sender`: whose message disagreed; its
   * node holds its side's version of every demand it closed those rounds on, so it is asked
   * first, with the other members (a request that names them all brings every member's demand).
   */
  ask(epoch: number, asked: number, held: number, members: readonly AgentId[], sender: AgentId): void {
    const { out } = this.#ctx;
    const through = Math.min(asked, held);
    // Replay at restart judges stored messages again: it asks nothing, now or later.
    if (!(through >= 0) || out.replaying || epoch === this.#proven) return;
    const walk = this.#walk;
    const over = walk === null || walk.epoch !== epoch || walk.pending.length === 0;
    if (over && (walk?.epoch !== epoch || this.#ctx.now >= this.#nextAt)) {
      this.#walk = { epoch, pending: [{ from: through, to: 0 }], top: through, sender, members };
      out.log("info", "closed a round on another demand set than a member's: walking the epoch's rounds", {
        epoch,
        through,
        sender,
      });
    } else if (walk !== null && through > walk.top) {
      // Later rounds than the walk covers: asked first, at its next step.
      walk.pending.unshift({ from: through, to: walk.top + 1 });
      walk.top = through;
      walk.sender = sender;
      walk.members = members;
    }
    this.#step();
  }

  /** A step of the walk, if one is due. */
  onTick(): void {
    if (this.#ctx.timers.due("probe", this.#ctx.now)) this.#step();
  }

  /** A proof against a member of `epoch` is held: the walk has done its work, and none follows. */
  proven(epoch: number): void {
    this.#proven = epoch;
    if (this.#walk?.epoch === epoch) this.stop();
  }

  /** The epoch is over (or the market stopped): its walk with it. */
  stop(): void {
    this.#walk = null;
    this.#ctx.timers.clear("probe");
  }

  #step(): void {
    const { now, contract, out, timers } = this.#ctx;
    const walk = this.#walk;
    if (walk === null || walk.pending.length === 0) return;
    if (now < this.#nextAt) {
      timers.set("probe", this.#nextAt);
      return;
    }
    const half = contract.timeouts.roundMs / 2;
    this.#nextAt = now + half;
    const others = walk.members.filter((id) => id !== walk.sender && id !== this.#ctx.me);
    for (const round of take(walk.pending, PROBE_ROUNDS_PER_STEP))
      out.sync({
        type: "messages",
        epoch: walk.epoch,
        round,
        kinds: ["demand"],
        from: [walk.sender, ...others],
        lead: walk.sender,
      });
    if (walk.pending.length > 0) timers.set("probe", this.#nextAt);
    else timers.clear("probe");
  }

  /** How many rounds the walk has still to ask (0: none walking). */
  queued(): number {
    return (this.#walk?.pending ?? []).reduce((n, run) => n + run.from - run.to + 1, 0);
  }
}

/** Rounds from, from−1, …, to (from ≥ to). */
interface RoundRun {
  from: number;
  to: number;
}

/** The first `count` rounds of `runs`, newest first, taken off them. */
function take(runs: RoundRun[], count: number): number[] {
  const rounds: number[] = [];
  while (rounds.length < count && runs.length > 0) {
    const run = runs[0] as RoundRun;
    rounds.push(run.from);
    if (run.from === run.to) runs.shift();
    else run.from -= 1;
  }
  return rounds;
}
