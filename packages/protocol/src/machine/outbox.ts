import type { Signer } from "../wire/agent-key.ts";
import { slotOf, type Unsigned, type WireMessage } from "../wire/messages.ts";
import { signMessage } from "../wire/signing.ts";
import type { MachineAction, SyncWant } from "./machine-io.ts";
import type { SlotBook } from "./slot-book.ts";

/**
 * Everything the machine wants done, in order; the node carries it out. Signing happens here and
 * only here, behind one rule: a slot this agent already signed is never signed again. During
 * replay nothing is published, synced or logged: the stored messages are the past.
 */
export class Outbox {
  #actions: MachineAction[] = [];
  readonly #signer: Signer | null;
  readonly #slots: SlotBook;
  readonly #clock: () => number;
  #replaying = false;
  #publishedAt = Number.NEGATIVE_INFINITY;

  constructor(signer: Signer | null, slots: SlotBook, clock: () => number) {
    this.#signer = signer;
    this.#slots = slots;
    this.#clock = clock;
  }

  /** When this agent last published a message: any message it signs tells the others it lives. */
  get publishedAt(): number {
    return this.#publishedAt;
  }

  set replaying(on: boolean) {
    this.#replaying = on;
  }

  get replaying(): boolean {
    return this.#replaying;
  }

  /** Signs and queues `unsigned`; returns the message this agent holds for the slot, or null. */
  publish<M extends WireMessage>(unsigned: Unsigned<M>): M | null {
    const signer = this.#signer;
    if (!signer || this.#replaying) return null;
    const prior = this.#slots.get(slotOf(unsigned as M));
    if (prior) return prior as M;
    const message = signMessage<M>(unsigned, signer);
    this.#slots.record(message);
    this.#actions.push({ type: "publish", message });
    this.#publishedAt = this.#clock();
    return message;
  }

  sync(want: SyncWant): void {
    if (!this.#replaying) this.#actions.push({ type: "sync", want });
  }

  /** Gossip another agent's signed message as is (an equivocation proof's version); not during replay. */
  relay(message: WireMessage): void {
    if (!this.#replaying) this.#actions.push({ type: "relay", message });
  }

  log(level: "debug" | "info" | "warn", msg: string, fields?: Record<string, unknown>): void {
    if (!this.#replaying) this.#actions.push({ type: "log", level, msg, ...(fields ? { fields } : {}) });
  }

  /** State changes the node mirrors (epochs, rounds, certificates): also during replay. */
  emit(action: MachineAction): void {
    this.#actions.push(action);
  }

  drain(): MachineAction[] {
    const out = this.#actions;
    this.#actions = [];
    return out;
  }
}
