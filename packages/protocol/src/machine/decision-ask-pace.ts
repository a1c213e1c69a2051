import type { Contract } from "../wire/contract.ts";

type Timeouts = Contract["timeouts"];

/** A node that knows a decision exists but holds no epoch asks this many times per announceMs (§9.3). */
export const FIRST_EPOCH_ASKS = 4;

/**
 * The signers of the spell's epoch a node remembers (the latest): one forgotten may begin another
 * spell, which the gap between spells bounds.
 */
export const SPELL_SIGNERS_KEPT = 3;

/** Brisk spells begin at least this many round timeouts apart: brisk at most half the time. */
export const SPELL_GAP_ROUNDS = 2;

/**
 * How often a node that knows no epoch asks its peers for the current decision (docs/protocol.md
 * §9.3): one rule for joiners and suspended founders alike. A message of an epoch says a decision
 * exists, so the node asks briskly for a round timeout (a `spell`); then, as before it heard any, it
 * doubles its wait after each ask up to the longest a joiner waits between announcements. The
 * message may be a stranger's, or the deciders out of reach: a joiner that heard one asked 4 times
 * per announceMs for as long as that lasted. The real network's message may come after a
 * stranger's, of another epoch or of the same one: a message of another epoch than the spell's, or
 * of its epoch from a signer none of its spells began with, begins a new spell, but never sooner
 * than SPELL_GAP_ROUNDS round timeouts after the last began, so that no stream of throwaway keys or
 * made-up epochs keeps a joiner brisk more than half the time.
 */
export interface DecisionAskPace {
  /** The wait after the next ask. */
  readonly every: number;
  /**
   * The brisk spell: when it began, the epoch named by the message that began it, and the signers
   * of that epoch whose messages began spells (the latest SPELL_SIGNERS_KEPT, oldest first).
   */
  readonly spell: {
    readonly since: number;
    readonly epoch: number;
    readonly signers: readonly string[];
  } | null;
}

export function initialAskPace(timeouts: Timeouts): DecisionAskPace {
  return { every: timeouts.announceMs, spell: null };
}

/** Whether the node is in a brisk spell at `now`. */
export function asksBriskly(pace: DecisionAskPace, now: number, timeouts: Timeouts): boolean {
  return pace.spell !== null && now < pace.spell.since + timeouts.roundMs;
}

/** Whether `signer`'s message of `epoch` is news the last spell did not begin with. */
function newToSpell(spell: NonNullable<DecisionAskPace["spell"]>, epoch: number, signer: string): boolean {
  return spell.epoch !== epoch || !spell.signers.includes(signer);
}

/**
 * The pace once `signer`'s message of `epoch` is heard at `now`: a new brisk spell when that is
 * news to the last one and the last began SPELL_GAP_ROUNDS round timeouts ago or more; otherwise
 * the same object.
 */
export function heardEpochAt(
  pace: DecisionAskPace,
  epoch: number,
  signer: string,
  now: number,
  timeouts: Timeouts,
): DecisionAskPace {
  const spell = pace.spell;
  if (spell !== null) {
    if (!newToSpell(spell, epoch, signer)) return pace;
    if (now < spell.since + SPELL_GAP_ROUNDS * timeouts.roundMs) return pace;
  }
  const signers = spell?.epoch === epoch ? [...spell.signers, signer].slice(-SPELL_SIGNERS_KEPT) : [signer];
  return { every: timeouts.announceMs / FIRST_EPOCH_ASKS, spell: { since: now, epoch, signers } };
}

/** The pace after an ask at `now`: the wait doubles, up to `longestMs`, unless in a brisk spell. */
export function afterAsk(
  pace: DecisionAskPace,
  now: number,
  timeouts: Timeouts,
  longestMs: number,
): DecisionAskPace {
  if (asksBriskly(pace, now, timeouts)) return pace;
  return { ...pace, every: Math.min(2 * pace.every, longestMs) };
}
