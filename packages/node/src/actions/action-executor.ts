import {
  canonicalJson,
  encodeMessage,
  type MachineAction,
  messageDigest,
  type SyncWant,
  type WireMessage,
} from "@walras/protocol";
import type { Logger } from "pino";
import type { NodeMetrics } from "../metrics/node-metrics.ts";
import type { MessageWriter } from "../store/message-writer.ts";
import type { Store, StoredMessage } from "../store/store.ts";

/**
 * Carries out what the machine decides, the one place that does: store and publish its signed
 * messages, start catch-up, record certificates, count and log. Listeners see every action first.
 */
export interface ActionExecutor {
  /**
   * Carries out `actions` in order; throws if a message cannot be stored. Resolves once every
   * message they published has been handed to gossip (never rejects).
   */
  perform(actions: readonly MachineAction[]): Promise<void>;
}

export interface ActionExecutorInit {
  readonly writer: MessageWriter;
  readonly store: Store;
  readonly metrics: NodeMetrics;
  readonly log: Logger;
  readonly listeners: ReadonlySet<(action: MachineAction) => void>;
  /** Gossips an own message's bytes; must not throw (a failed publish is left to sync). */
  publish(message: WireMessage, bytes: Uint8Array): Promise<void>;
  /** Fetches what the machine is missing from peers. */
  catchUp(want: SyncWant): void;
  now(): number;
}

/** The row a message is stored as. */
export function storedMessage(message: WireMessage, bytes: Uint8Array, receivedAt: number): StoredMessage {
  return {
    digest: messageDigest(message),
    kind: message.kind,
    epoch: message.epoch,
    ...("round" in message ? { round: message.round } : {}),
    signer: message.agent,
    bytes,
    receivedAt,
  };
}

/**
 * Only an epoch proposal pays for an fsync. Its bytes are not a function of its slot (epoch, seq,
 * agent): a restart that lost it could sign a different member list under the same slot, which
 * is equivocation. Every other kind is safe to lose to a power cut: demands, votes and commits
 * are pure functions of the agreed history (Ed25519 signatures are deterministic), and a join,
 * leave or heartbeat holds nothing but its slot, so one signed again is the same bytes.
 */
const needsFsync = (m: WireMessage) => m.kind === "epoch";

export function createActionExecutor(init: ActionExecutorInit): ActionExecutor {
  const { metrics, log } = init;
  let epochStartedAt = init.now();

  const publish = (message: WireMessage): Promise<void> => {
    const bytes = encodeMessage(message);
    // Write-ahead: stored before anyone can see it, so a restart replays it rather than signing
    // a different one for its slot.
    init.writer.own(storedMessage(message, bytes, init.now()), needsFsync(message));
    metrics.messagesPublished.inc({ kind: message.kind });
    metrics.messageBytes.inc({ direction: "out" }, bytes.length);
    return init.publish(message, bytes);
  };

  const perform = (action: MachineAction): Promise<void> | null => {
    for (const listener of init.listeners) listener(action);
    switch (action.type) {
      case "publish":
        return publish(action.message);
      case "sync":
        init.catchUp(action.want);
        return null;
      case "epoch-started":
        epochStartedAt = init.now();
        metrics.epoch.set(action.epoch);
        metrics.round.set(0);
        return null;
      case "round-closed":
        metrics.rounds.inc();
        metrics.round.set(action.round + 1);
        metrics.residual.set(action.residual);
        log.debug(
          { epoch: action.epoch, round: action.round, prices: action.prices, residual: action.residual },
          "round closed",
        );
        return null;
      case "certificate": {
        const { certificate } = action;
        init.store.putCertificate(
          certificate.commit.epoch,
          new TextEncoder().encode(canonicalJson(certificate)),
        );
        if (certificate.signatures.length > 0)
          metrics.timeToAgreementSeconds.observe((init.now() - epochStartedAt) / 1000);
        log.info(
          {
            epoch: certificate.commit.epoch,
            signers: certificate.signatures.length,
            complete: action.complete,
          },
          "certificate",
        );
        return null;
      }
      case "dropped":
        metrics.messagesRejected.inc({ reason: action.reason });
        log.warn(
          { reason: action.reason, agent: action.message.agent, kind: action.message.kind },
          "message dropped",
        );
        return null;
      case "equivocation": {
        const { evidence } = action;
        log.warn(
          { agent: evidence.agent, slot: evidence.slot, first: evidence.first, second: evidence.second },
          "equivocation: two signed messages for one slot",
        );
        return null;
      }
      case "log":
        log[action.level](action.fields ?? {}, action.msg);
        return null;
    }
  };

  return {
    // Not async: a failure to store must throw to the caller now, not become a lost rejection.
    perform: (actions) => {
      const published: Promise<void>[] = [];
      for (const action of actions) {
        const done = perform(action);
        if (done) published.push(done);
      }
      return Promise.all(published).then(() => undefined);
    },
  };
}
