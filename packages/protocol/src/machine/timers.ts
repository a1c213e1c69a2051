/**
 * One table of named deadlines (absolute ms on the events' clock). Modules arm and clear their
 * own; the node asks `next()` and sets a single timer for it instead of polling. Names carry the
 * meaning, so a trace says which deadline woke the machine.
 */
export type TimerName =
  | "found"
  | "announce"
  | "heartbeat"
  | "round-stuck"
  | "demand-sync"
  | "commit-sync"
  | "commit-other"
  | "silence"
  | "joiner-expiry"
  | "batch"
  | "view-timeout"
  | "membership-sync"
  | "decision-sync"
  | "decision-poll"
  | "catch-up"
  | "snub-expiry"
  | "leave-timeout"
  | "leave-resend"
  | "slot"
  | "conviction"
  | "probe";

export class Timers {
  readonly #at = new Map<TimerName, number>();

  set(name: TimerName, at: number): void {
    this.#at.set(name, at);
  }

  /** Arm `name` for `at` unless it is already armed earlier. */
  setEarliest(name: TimerName, at: number): void {
    const prior = this.#at.get(name);
    if (prior === undefined || at < prior) this.#at.set(name, at);
  }

  clear(name: TimerName): void {
    this.#at.delete(name);
  }

  at(name: TimerName): number | undefined {
    return this.#at.get(name);
  }

  /** Armed and reached: the caller acts, then re-arms or clears it. */
  due(name: TimerName, now: number): boolean {
    const at = this.#at.get(name);
    return at !== undefined && now >= at;
  }

  next(): number | null {
    let next: number | null = null;
    for (const at of this.#at.values()) if (next === null || at < next) next = at;
    return next;
  }

  entries(): [TimerName, number][] {
    return [...this.#at.entries()].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
  }
}
