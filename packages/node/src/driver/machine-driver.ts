import type { AgentMachine, MachineEvent } from "@walras/protocol";
import type { Logger } from "pino";
import type { ActionExecutor } from "../actions/action-executor.ts";

/**
 * Feeds the machine its events and has the executor carry out what comes back. Time reaches the
 * machine through one timer, set for the machine's `nextDeadline()` and moved whenever an event
 * brings that deadline closer: no fixed-rate polling of its own. The same timer serves the
 * executor's retry of own messages a full disk held back and its ledger catch-up that stopped
 * with more to fetch (`executor.retryAt()`): its tick is an event, and each event retries them.
 */
export interface MachineDriver {
  /** Hands the machine one event; resolves once the messages it published went to gossip. */
  handle(event: MachineEvent): Promise<void>;
  /** Arms the timer (after replay). */
  start(): void;
  /** Re-reads the deadlines without an event: `executor.retryAt()` moved (a catch-up run ended). */
  wake(): void;
  stop(): void;
}

export interface MachineDriverInit {
  readonly machine: AgentMachine;
  readonly executor: Pick<ActionExecutor, "perform" | "retryAt">;
  readonly log: Logger;
  /** Deadlines closer together than this are served by one tick. */
  readonly minTickMs?: number;
  /**
   * Called after every event the machine handled, its actions under way: whatever the event, it
   * may have settled an epoch (the node releases the commit references held for it then).
   */
  afterEvent?(): void;
  now(): number;
}

/**
 * Node fires a timer of more than 2^31 − 1 ms after 1 ms instead (with a warning), and a deadline
 * that far is ordinary (a contract's monthly period, a week-long round): the driver would wake every
 * millisecond. It wakes at most this far ahead, finds nothing due, and arms again.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The delay to arm for `deadline`, within what Node's timers can hold. */
export function timerDelay(deadline: number, now: number): number {
  return Math.min(Math.max(0, deadline - now), MAX_TIMER_MS);
}

export function createMachineDriver(init: MachineDriverInit): MachineDriver {
  const { machine, executor, log } = init;
  const minTickMs = init.minTickMs ?? 5;
  let timer: NodeJS.Timeout | null = null;
  let armedFor = Number.POSITIVE_INFINITY;
  let running = false;

  const arm = (): void => {
    if (!running) return;
    const now = init.now();
    const deadline = Math.max(Math.min(machine.nextDeadline(), executor.retryAt()), now + minTickMs);
    if (timer && deadline >= armedFor) return;
    if (timer) clearTimeout(timer);
    armedFor = deadline;
    timer = setTimeout(fire, timerDelay(deadline, now));
  };

  const fire = (): void => {
    timer = null;
    armedFor = Number.POSITIVE_INFINITY;
    // A bug surfacing in a timer would otherwise be an uncaught exception that kills the node.
    try {
      void handle({ type: "tick", now: init.now() });
    } catch (err) {
      log.error({ err }, "tick failed");
      arm();
    }
  };

  const handle = (event: MachineEvent): Promise<void> => {
    const done = executor.perform(machine.handle(event));
    arm();
    init.afterEvent?.();
    return done;
  };

  return {
    handle,
    start: () => {
      running = true;
      arm();
    },
    wake: arm,
    stop: () => {
      running = false;
      if (timer) clearTimeout(timer);
      timer = null;
      armedFor = Number.POSITIVE_INFINITY;
    },
  };
}
