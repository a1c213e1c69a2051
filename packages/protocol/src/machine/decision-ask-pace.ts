import type { Contract } from "../wire/contract.ts";

type Timeouts = Contract["timeouts"];

/** A node that knows a decision exists but holds no epoch asks this many times per announceMs (§9.3). */
export const FIRST_EPOCH_ASKS = 4;

/**
 * How often a node that knows no epoch asks its peers for the current decision (docs/protocol.md
 * §9.3): one rule for joiners and suspended founders alike. A message of an epoch says a decision
 * exists, so the node asks briskly for a round timeout (a `spell`); then, as before it heard any, it
 * doubles its wait after each ask up to the longest a joiner waits between announcements. The
 * message may be a stranger's, or the deciders out of reach: a joiner that heard one asked 4 times
 * per announceMs for as long as that lasted. A message of another epoch than the one that began
 * the spell begins a new one: the real network's may come after a stranger's.
 */
export interface DecisionAskPace {
  /** The wait after the next ask. */
  readonly every: number;
  /** The brisk spell: when it began, and the epoch named by the message that began it. */
  readonly spell: { readonly since: number; readonly epoch: number } | null;
}

export function initialAskPace(timeouts: Timeouts): DecisionAskPace {
  return { every: timeouts.announceMs, spell: null };
}

/** Whether the node is in a brisk spell at `now`. */
export function asksBriskly(pace: DecisionAskPace, now: number, timeouts: Timeouts): boolean {
  return pace.spell !== null && now < pace.spell.since + timeouts.roundMs;
}

/**
 * The pace once another agent's message of `epoch` is heard at `now`: a new brisk spell unless
 * the current one began with that epoch (then the same object).
 */
export function heardEpochAt(
  pace: DecisionAskPace,
  epoch: number,
  now: number,
  timeouts: Timeouts,
): DecisionAskPace {
  if (pace.spell?.epoch === epoch) return pace;
  return { every: timeouts.announceMs / FIRST_EPOCH_ASKS, spell: { since: now, epoch } };
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
