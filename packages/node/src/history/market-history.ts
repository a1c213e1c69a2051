import type { Certificate, MachineAction } from "@walras/protocol";

/** A round as it closed on this node: the prices p^k its demands answered, and their residual. */
export interface ClosedRound {
  /** Position in this node's history across epochs: the x of a price path that spans epochs. */
  readonly seq: number;
  readonly epoch: number;
  readonly round: number;
  readonly prices: readonly number[];
  readonly residual: number;
  readonly converged: boolean;
}

export interface EpochStart {
  readonly epoch: number;
  readonly members: readonly string[];
  /** The seq its first closed round gets (a boundary on the price path). */
  readonly fromSeq: number;
}

export type HistoryEvent =
  | { readonly type: "round"; readonly round: ClosedRound }
  | { readonly type: "epoch"; readonly epoch: EpochStart }
  | { readonly type: "certificate"; readonly certificate: Certificate };

export interface HistoryLimits {
  /** Closed rounds kept (oldest dropped first). Default 2000. */
  readonly rounds?: number;
  /** Epoch starts kept. Default 200. */
  readonly epochs?: number;
  /** Certificates kept, one per epoch. Default 50. */
  readonly certificates?: number;
}

/**
 * A bounded, in-memory record of what the protocol machine did: closed rounds (the price path and
 * residual), epoch starts and certificates. Fed with the machine's actions, including those of the
 * replay after a restart, so it survives a restart as far back as the store goes.
 */
export interface MarketHistory {
  record(action: MachineAction): void;
  rounds(): readonly ClosedRound[];
  epochs(): readonly EpochStart[];
  /** One per epoch, the one with the most signatures so far, oldest first. */
  certificates(): readonly Certificate[];
  /** Called after each change; returns the unsubscribe function. */
  subscribe(listener: (event: HistoryEvent) => void): () => void;
}

export function createMarketHistory(limits: HistoryLimits = {}): MarketHistory {
  const rounds: ClosedRound[] = [];
  const epochs: EpochStart[] = [];
  const certificates: Certificate[] = [];
  const listeners = new Set<(event: HistoryEvent) => void>();
  let nextSeq = 0;
  const emit = (event: HistoryEvent) => {
    for (const l of listeners) l(event);
  };

  return {
    record(action) {
      switch (action.type) {
        case "round-closed": {
          const round: ClosedRound = {
            seq: nextSeq++,
            epoch: action.epoch,
            round: action.round,
            prices: action.prices,
            residual: action.residual,
            converged: action.converged,
          };
          pushBounded(rounds, round, limits.rounds ?? 2000);
          emit({ type: "round", round });
          break;
        }
        case "epoch-started": {
          const epoch: EpochStart = { epoch: action.epoch, members: action.members, fromSeq: nextSeq };
          pushBounded(epochs, epoch, limits.epochs ?? 200);
          emit({ type: "epoch", epoch });
          break;
        }
        case "certificate": {
          const epoch = action.certificate.commit.epoch;
          const at = certificates.findIndex((c) => c.commit.epoch === epoch);
          if (at >= 0) certificates[at] = action.certificate;
          else pushBounded(certificates, action.certificate, limits.certificates ?? 50);
          emit({ type: "certificate", certificate: action.certificate });
          break;
        }
      }
    },
    rounds: () => rounds,
    epochs: () => epochs,
    certificates: () => certificates,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

function pushBounded<T>(list: T[], item: T, limit: number): void {
  list.push(item);
  if (list.length > limit) list.splice(0, list.length - limit);
}
